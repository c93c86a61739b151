"""Just enough of RFC 8941 (Structured Field Values) for RFC 9421 and RFC 9530.

Parses Dictionaries whose members are Items or Inner Lists with parameters, and serializes
Items / Inner Lists the canonical way (RFC 8941 §4.1), which is what RFC 9421 §2.3 puts on
the `@signature-params` line. Decimals parse but are kept as `float` and not re-serialized.
Errors raise `SignatureError` (every caller is verifying a signature).
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from dataclasses import dataclass, field
from typing import TypeAlias

from kizuna.activitypub.errors import SignatureError

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "Params",
    "Token",
    "parse_dictionary",
    "parse_item",
    "serialize_inner_list",
    "serialize_item",
]


class Token(str):
    """An sf-token (serialized without quotes), told apart from an sf-string."""

    __slots__ = ()


BareItem: TypeAlias = bool | int | float | str | bytes
Params: TypeAlias = dict[str, BareItem]


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


_KEY_START = string.ascii_lowercase + "*"
_KEY_CHARS = string.ascii_lowercase + string.digits + "_-.*"
_TOKEN_START = string.ascii_letters + "*"
_TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/"
_B64_CHARS = string.ascii_letters + string.digits + "+/="
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> SignatureError:
        return SignatureError(f"malformed structured field: {what}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def key(self) -> str:
        if not self.peek() or self.peek() not in _KEY_START:
            raise self.fail(f"bad key at {self.pos}")
        start = self.pos
        self.skip(_KEY_CHARS)
        return self.text[start : self.pos]

    def params(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[name] = value  # RFC 8941: a repeated parameter overwrites
        return params

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            self.pos += 1
            flag = self.peek()
            if flag not in ("0", "1"):
                raise self.fail("bad boolean")
            self.pos += 1
            return flag == "1"
        if char and char in _TOKEN_START:
            start = self.pos
            self.pos += 1
            self.skip(_TOKEN_CHARS)
            return Token(self.text[start : self.pos])
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail(f"bad item at {self.pos}")
        self.pos = match.end()
        return float(match.group()) if match.group(1) else int(match.group())

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("unterminated string")
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                self.pos += 1
                out.append(escaped)
            elif not " " <= char <= "~":
                raise self.fail("non-printable character in string")
            else:
                out.append(char)

    def byte_sequence(self) -> bytes:
        self.expect(":")
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        chunk = self.text[self.pos : end]
        if any(c not in _B64_CHARS for c in chunk):
            raise self.fail("bad base64 in byte sequence")
        self.pos = end + 1
        try:
            return base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
        except binascii.Error as exc:
            raise self.fail("bad base64 in byte sequence") from exc

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() != "(":
            value = self.bare_item()
            return Item(value=value, params=self.params())
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(items=tuple(items), params=self.params())
            value = self.bare_item()
            items.append(Item(value=value, params=self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail(f"bad inner list at {self.pos}")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """An sf-dictionary; member order is kept, a repeated key overwrites (RFC 8941 §4.2.2)."""
    parser = _Parser(text)
    parser.skip(" \t")
    members: dict[str, Item | InnerList] = {}
    while parser.peek():
        name = parser.key()
        if parser.peek() == "=":
            parser.pos += 1
            members[name] = parser.item_or_inner_list()
        else:
            members[name] = Item(value=True, params=parser.params())
        parser.skip(" \t")
        if not parser.peek():
            break
        parser.expect(",")
        parser.skip(" \t")
        if not parser.peek():
            raise parser.fail("trailing comma")
    return members


def parse_item(text: str) -> Item:
    """An sf-item, e.g. a component identifier such as `"@query-param";name="id"`."""
    parser = _Parser(text.strip(" "))
    value = parser.bare_item()
    item = Item(value=value, params=parser.params())
    if parser.peek():
        raise parser.fail(f"trailing characters at {parser.pos}")
    return item


def _serialize_bare(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        if any(not " " <= c <= "~" for c in value):
            raise SignatureError("string not serializable as a structured field")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise SignatureError("decimal not serializable here")


def _serialize_params(params: Params) -> str:
    out = ""
    for name, value in params.items():
        out += ";" + name if value is True else f";{name}={_serialize_bare(value)}"
    return out


def serialize_item(item: Item) -> str:
    return _serialize_bare(item.value) + _serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return (
        "("
        + " ".join(serialize_item(i) for i in inner.items)
        + ")"
        + (_serialize_params(inner.params))
    )
