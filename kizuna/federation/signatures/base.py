"""RFC 9421 §2: component values and the signature base of a request.

Derived components: @method, @target-uri, @authority, @scheme, @request-target, @path,
@query, @query-param;name=…; header fields, whole or one Dictionary member (`;key=`).
`;sf`, `;bs`, `;req`, `;tr` and @status are not supported (SignatureError).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, quote, unquote

from kizuna.activitypub.errors import SignatureError

from .message import RequestUrl, lower_headers, split_url
from .sfv import (
    BareItem,
    InnerList,
    Item,
    Params,
    Token,
    parse_dictionary,
    parse_item,
    serialize_inner_list,
    serialize_item,
)

__all__ = ["component_item", "signature_base", "signature_params"]

_STRING_PARAMS = ("keyid", "alg", "nonce", "tag")
_INTEGER_PARAMS = ("created", "expires")


def component_item(component: str | Item) -> Item:
    if isinstance(component, Item):
        return component
    return parse_item(component) if component.startswith('"') else Item(value=component)


def _check_params(params: Params) -> None:
    for name in _STRING_PARAMS:
        if name in params and (
            not isinstance(params[name], str) or isinstance(params[name], Token)
        ):
            raise SignatureError(f"signature parameter {name} must be a string")
    for name in _INTEGER_PARAMS:
        value = params.get(name)
        if name in params and (not isinstance(value, int) or isinstance(value, bool)):
            raise SignatureError(f"signature parameter {name} must be an integer")


def signature_params(items: Sequence[Item], params: Params) -> str:
    _check_params(params)
    return serialize_inner_list(InnerList(items=tuple(items), params=params))


def _query_param(target: RequestUrl, params: Params) -> str:
    name = params.get("name")
    if not isinstance(name, str) or set(params) != {"name"}:
        raise SignatureError("@query-param needs exactly a name parameter")
    # RFC 9421 §2.2.8: decode as application/x-www-form-urlencoded, re-encode the value.
    matches = [
        v for k, v in parse_qsl(target.query or "", keep_blank_values=True) if k == unquote(name)
    ]
    if len(matches) != 1:
        raise SignatureError(f"query parameter {name} is missing or repeated")
    return quote(matches[0], safe="*-._").replace("~", "%7E")


def _component_value(
    item: Item, *, method: str, target: RequestUrl, headers: dict[str, str]
) -> str:
    name = item.value
    if not isinstance(name, str) or isinstance(name, Token):
        raise SignatureError("component identifiers must be strings")
    if name == "@query-param":
        return _query_param(target, item.params)
    if name.startswith("@"):
        if item.params:
            raise SignatureError(f"unsupported parameters on component {name}")
        match name:
            case "@method":
                return method
            case "@target-uri":
                return target.target_uri
            case "@authority":
                return target.authority
            case "@scheme":
                return target.scheme
            case "@request-target":
                return target.path_qs
            case "@path":
                return target.path
            case "@query":
                return "?" + (target.query or "")
        raise SignatureError(f"unsupported derived component {name}")
    if name not in headers:
        raise SignatureError(f"covered header {name} is missing from the request")
    if not item.params:
        return headers[name]
    key = item.params.get("key")
    if set(item.params) != {"key"} or not isinstance(key, str):
        raise SignatureError(f"unsupported parameters on component {name}")
    # RFC 9421 §2.1.2: one member of a Dictionary field, re-serialized.
    member = parse_dictionary(headers[name]).get(key)
    if member is None:
        raise SignatureError(f"covered header {name} has no member {key}")
    return serialize_item(member) if isinstance(member, Item) else serialize_inner_list(member)


def signature_base(
    components: Sequence[str | Item],
    params: Mapping[str, BareItem],
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
) -> str:
    """RFC 9421 §2.5: one `"<component>": <value>` line each, then `"@signature-params"`.

    A component is a bare name ("@method", "content-type") or a serialized identifier
    ('"@query-param";name="id"').
    """
    target = split_url(url)
    lowered = lower_headers(headers)
    items = [component_item(c) for c in components]
    lines = []
    for item in items:
        value = _component_value(item, method=method, target=target, headers=lowered)
        if "\n" in value or "\r" in value:
            raise SignatureError("newline in a covered component")
        lines.append(f"{serialize_item(item)}: {value}")
    lines.append(f'"@signature-params": {signature_params(items, dict(params))}')
    base = "\n".join(lines)
    if not base.isascii():
        raise SignatureError("signature base is not ASCII")
    return base
