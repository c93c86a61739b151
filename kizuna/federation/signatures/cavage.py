"""draft-cavage-http-signatures-12, signed and verified the way Mastodon does it.

Rules follow Mastodon's SignedRequest::HttpSignature (app/lib/signed_request.rb) and
Request#signature (app/lib/request.rb); the grammar of the header follows
app/lib/signature_parser.rb. Deliberate differences, all stricter:
- `created` / `expires` parameters count only when `(created)` / `(expires)` are signed
  (Mastodon reads them even unsigned, which lets anyone stretch an old signature's life);
- duplicate parameters and non-strict base64 are refused;
- `host` must be signed on every request, POSTs included (Mastodon: GETs only).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kizuna.activitypub.errors import SignatureError

from .algorithms import algorithm_for_key, check_time_window, sign_bytes, verify_bytes
from .digest import check_digest_header, digest_header
from .keys import PrivateKeyType, PublicKey
from .message import from_timestamp, http_date, lower_headers, parse_http_date, split_url

__all__ = ["CavageSignature", "parse_cavage", "sign_cavage", "signing_string", "verify_cavage"]

REQUEST_TARGET = "(request-target)"
_TOKEN = re.compile(r"[0-9A-Za-z!#$%&'*+.^_`|~-]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_INTEGER = re.compile(r"[0-9]{1,15}(\.[0-9]+)?")


@dataclass(frozen=True, slots=True, kw_only=True)
class CavageSignature:
    """A parsed `Signature` header; `headers` already carries the draft's default."""

    key_id: str
    algorithm: str | None  # lowercased; None when the header names none (= hs2019)
    headers: tuple[str, ...]
    signature: bytes = field(repr=False)
    created: int | None = None
    expires: int | None = None


def _skip_space(text: str, pos: int) -> int:
    while text[pos : pos + 1] in (" ", "\t"):
        pos += 1
    return pos


def _parse_params(value: str) -> dict[str, str]:
    text = value.strip()
    if text.startswith("Signature "):  # old node-http-signature prefix, tolerated by Mastodon
        text = text[len("Signature ") :]
    params: dict[str, str] = {}
    pos = 0
    while True:
        name_match = _TOKEN.match(text, pos)
        if name_match is None:
            raise SignatureError("malformed Signature header")
        pos = _skip_space(text, name_match.end())
        if text[pos : pos + 1] != "=":
            raise SignatureError("malformed Signature header")
        pos = _skip_space(text, pos + 1)
        quoted = _QUOTED.match(text, pos)
        token = None if quoted else _TOKEN.match(text, pos)
        if quoted is not None:
            param = re.sub(r"\\(.)", r"\1", quoted.group(1), flags=re.DOTALL)
            pos = quoted.end()
        elif token is not None:
            param = token.group()
            pos = token.end()
        else:
            raise SignatureError("malformed Signature header")
        name = name_match.group().lower()
        if name in params:
            raise SignatureError(f"duplicate {name_match.group()} in Signature header")
        params[name] = param
        pos = _skip_space(text, pos)
        if pos == len(text):
            return params
        if text[pos] != ",":
            raise SignatureError("malformed Signature header")
        pos = _skip_space(text, pos + 1)


def _timestamp(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    match = _INTEGER.fullmatch(params[name])
    if match is None:
        raise SignatureError(f"invalid {name} parameter")
    return int(params[name].split(".", 1)[0])  # draft-12 allows a decimal `expires`


@functools.lru_cache(maxsize=4096)
def parse_cavage(value: str) -> CavageSignature:
    params = _parse_params(value)
    key_id = params.get("keyid", "")
    if not key_id:
        raise SignatureError("signature has no keyId")
    encoded = params.get("signature", "")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise SignatureError("signature is not valid base64") from exc
    if not signature:
        raise SignatureError("signature has no signature value")
    algorithm = params["algorithm"].lower() if "algorithm" in params else None
    # Defaults from Mastodon's signed_headers: "(created)" for hs2019 (also when no
    # algorithm is named), "date" otherwise.
    default = "(created)" if algorithm in (None, "hs2019") else "date"
    names = tuple(params.get("headers", default).lower().split())
    if not names:
        raise SignatureError("signature covers no headers")
    return CavageSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=names,
        signature=signature,
        created=_timestamp(params, "created"),
        expires=_timestamp(params, "expires"),
    )


def signing_string(
    parsed_headers_list: tuple[str, ...] | list[str],
    *,
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """One "name: value" line per signed name, joined by "\\n" (draft-cavage-12 §2.3)."""
    lowered = lower_headers(headers)
    lines: list[str] = []
    for name in parsed_headers_list:
        if name == REQUEST_TARGET:
            lines.append(f"{name}: {method.lower()} {path_qs}")
        elif name in ("(created)", "(expires)"):
            number = created if name == "(created)" else expires
            if number is None:
                raise SignatureError(f"{name} signed but its parameter is missing")
            lines.append(f"{name}: {number}")
        elif name in lowered:
            lines.append(f"{name}: {lowered[name]}")
        else:
            raise SignatureError(f"signed header {name} is missing from the request")
    return "\n".join(lines)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sign_cavage(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKeyType,
    now: datetime,
) -> dict[str, str]:
    """The headers to add: Host, Date, Digest (with a body; a POST always has one), Signature.

    With a body: `(request-target) host date digest [content-type]`; without:
    `(request-target) host date [accept]` (a bracketed name only when `headers` has it).
    """
    target = split_url(url)
    lowered = lower_headers(headers)
    if body is None and method.upper() == "POST":
        body = b""
    added = {"Host": target.authority, "Date": http_date(now)}
    names = [REQUEST_TARGET, "host", "date"]
    if body is not None:
        added["Digest"] = digest_header(body)
        names += ["digest", "content-type"] if "content-type" in lowered else ["digest"]
    elif "accept" in lowered:
        names.append("accept")
    merged = {**lowered, **{name.lower(): value for name, value in added.items()}}
    text = signing_string(names, method=method, path_qs=target.path_qs, headers=merged)
    algorithm = "rsa-sha256" if algorithm_for_key(private_key) != "ed25519" else "hs2019"
    signature = base64.b64encode(sign_bytes(private_key, text.encode("utf-8"))).decode("ascii")
    added["Signature"] = ",".join(
        (
            f"keyId={_quote(key_id)}",
            f"algorithm={_quote(algorithm)}",
            f"headers={_quote(' '.join(names))}",
            f"signature={_quote(signature)}",
        )
    )
    return added


def _check_policy(parsed: CavageSignature, method: str, public_key: PublicKey) -> None:
    algorithm = parsed.algorithm or "hs2019"
    if algorithm not in ("rsa-sha256", "hs2019", "ed25519"):
        raise SignatureError(f"unsupported signature algorithm {algorithm}")
    if algorithm == "rsa-sha256" and public_key.kind != "rsa":
        raise SignatureError("algorithm rsa-sha256 does not match an ed25519 key")
    if algorithm == "ed25519" and public_key.kind != "ed25519":
        raise SignatureError("algorithm ed25519 does not match an RSA key")
    signed = set(parsed.headers)
    if signed & {"(created)", "(expires)"} and algorithm != "hs2019":
        raise SignatureError("(created) and (expires) are only valid with hs2019")
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("neither date nor (created) signed")
    if REQUEST_TARGET not in signed and "digest" not in signed:
        raise SignatureError("(request-target) not signed")
    # Mastodon asks `host` of GETs only; we ask it of every request. Without it, a POST to
    # a shared inbox ("post /inbox", date, digest) made for another server verifies here
    # too, within the Date window. Every peer checked signs it (Mastodon, Misskey,
    # Akkoma/Pleroma, GoToSocial, Lemmy's activitypub-federation, Fedify).
    if "host" not in signed:
        raise SignatureError("host not signed")
    if method.upper() == "POST" and "digest" not in signed:
        raise SignatureError("digest not signed")


def verify_cavage(
    *,
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: PublicKey,
    now: datetime,
) -> None:
    """Verify the `Signature` header of a request; raise SignatureError on any failure."""
    lowered = lower_headers(headers)
    if "signature" not in lowered:
        raise SignatureError("no signature")
    parsed = parse_cavage(lowered["signature"])
    _check_policy(parsed, method, public_key)
    created = parsed.created if "(created)" in parsed.headers else None
    expires = parsed.expires if "(expires)" in parsed.headers else None
    text = signing_string(
        parsed.headers,
        method=method,
        path_qs=path_qs,
        headers=lowered,
        created=created,
        expires=expires,
    )
    if created is not None:
        created_at = from_timestamp(created, "created")
    else:  # "date" is signed (policy above), so the header is there (signing_string above)
        created_at = parse_http_date(lowered["date"])
    expires_at = from_timestamp(expires, "expires") if expires is not None else None
    check_time_window(created=created_at, expires=expires_at, now=now)
    if "digest" in parsed.headers:
        check_digest_header(lowered["digest"], body)
    algorithm = algorithm_for_key(public_key.key)
    try:
        verify_bytes(public_key.key, algorithm, parsed.signature, text.encode("utf-8"))
    except SignatureError:
        # Mastodon's compatibility rule: old Mastodon signed (request-target) without the
        # query, so a failure is retried with the query dropped (signed_request.rb verified?).
        path = path_qs.split("?", 1)[0]
        if REQUEST_TARGET not in parsed.headers or path == path_qs:
            raise
        retry = signing_string(
            parsed.headers,
            method=method,
            path_qs=path,
            headers=lowered,
            created=created,
            expires=expires,
        )
        verify_bytes(public_key.key, algorithm, parsed.signature, retry.encode("utf-8"))
