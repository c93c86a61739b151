"""JSON from outside (inbox bodies, fetched documents), parsed only within a nesting limit.

`json.loads` recurses once per nested array or object, so a body of 100,000 `[` raises
RecursionError from deep inside the parser (a 500 for whoever is handling it). The nesting
depth is therefore measured first, without recursion and in linear time (strings removed,
then the brackets counted, all in C), and only a document within `MAX_DEPTH` is handed to
`json.loads`.

MAX_DEPTH is 64. Real activities nest about 8 levels (Announce > Create > Note > tag >
Emoji > icon); parsers peers use stop at 100 (Ruby's json, max_nesting), 128 (serde_json,
Lemmy), 64 (.NET System.Text.Json) or 10,000 (Go's encoding/json, GoToSocial). 64 is eight
times what anyone sends and keeps every recursive walk over a stored document (sanitising,
the database's JSON encoding) far from Python's recursion limit of 1,000.

Pure: standard library only. Every refusal is `InvalidJsonError` (an InvalidActivityError,
400); callers that fetched the document turn it into a refused fetch (NotJsonError).
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

from kizuna.activitypub.errors import InvalidJsonError

__all__ = ["MAX_DEPTH", "loads", "nesting_depth"]

MAX_DEPTH = 64

# A JSON string from its opening quote. Possessive quantifiers never backtrack, so a match
# is linear; an unterminated string runs to the end of the text (json.loads refuses it).
# Bytes are safe to scan as they are: in UTF-8 no byte of a multi-byte character is ASCII.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
# Brackets become +1 / -1 (as signed bytes); every other byte is dropped.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_OTHERS = bytes(set(range(256)) - set(b"[]{}"))


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in UTF-8 `data` (0 for a scalar), brackets
    inside strings not counted. For any document json.loads accepts this is exactly its
    depth; for others, at least the depth json.loads would reach before failing."""
    steps = _STRING.sub(b"", data).translate(_STEPS, _OTHERS)
    return max(accumulate(array("b", steps)), default=0)


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed document; InvalidJsonError if `data` is not UTF-8 JSON (RFC 8259 §8.1:
    exchanged JSON is UTF-8, a byte order mark may be ignored) or nests deeper than
    `max_depth`."""
    if isinstance(data, str):
        text, raw = data, data.encode("utf-8", "surrogatepass")
    else:
        try:
            text, raw = data.decode("utf-8"), data
        except UnicodeDecodeError:
            raise InvalidJsonError("the document is not UTF-8") from None
    if nesting_depth(raw) > max_depth:
        raise InvalidJsonError(f"the document nests deeper than {max_depth} levels")
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except ValueError:  # JSONDecodeError, or a number too long to convert
        raise InvalidJsonError("the document is not valid JSON") from None
