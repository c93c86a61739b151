"""JSON from outside: a nesting limit checked without recursion, a domain error for all else."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from kizuna.activitypub.errors import InvalidActivityError, InvalidJsonError
from kizuna.activitypub.jsonload import MAX_DEPTH, loads, nesting_depth
from kizuna.realtime.events import decode_batch

DEEP = 100_000


def _nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b'{"a":1' + b"}" * depth


def _depth(value: Any) -> int:
    """The nesting depth of a parsed value, by the definition (recursive: test data only)."""
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


def _random_doc(rng: random.Random, budget: int) -> Any:
    roll = rng.random()
    if budget == 0 or roll < 0.3:
        return rng.choice(['[{"x"}]', "\\", '"', "é]", 1, 2.5, None, True, "plain", "\\u005b["])
    if roll < 0.65:
        return [_random_doc(rng, budget - 1) for _ in range(rng.randrange(4))]
    return {f"k[{i}\\": _random_doc(rng, budget - 1) for i in range(rng.randrange(4))}


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"1", 0),
        (b'"[[["', 0),
        (b"[]", 1),
        (b'{"a":{"a":1}}', 2),
        (b'["\\"[[", "\\\\", "]]"]', 1),
        ('["é{[", {"ü": []}]'.encode(), 3),
        (b"[[],[[]],[]]", 3),
    ],
)
def test_nesting_depth__counts_brackets_outside_strings(text: bytes, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_nesting_depth__agrees_with_the_parsed_document() -> None:
    rng = random.Random(14)
    for _ in range(500):
        doc = _random_doc(rng, rng.randrange(8))
        for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False, indent=1)):
            assert nesting_depth(text.encode()) == _depth(doc), text


@pytest.mark.parametrize("make", [_nested_arrays, _nested_objects], ids=["arrays", "objects"])
def test_loads__accepts_exactly_the_limit_and_refuses_one_more(make: Any) -> None:
    assert _depth(loads(make(MAX_DEPTH))) == MAX_DEPTH

    with pytest.raises(InvalidJsonError, match=f"deeper than {MAX_DEPTH} levels"):
        loads(make(MAX_DEPTH + 1))


@pytest.mark.parametrize("make", [_nested_arrays, _nested_objects], ids=["arrays", "objects"])
def test_loads__refuses_100000_levels_without_recursion_error(make: Any) -> None:
    with pytest.raises(InvalidJsonError, match="deeper than"):
        loads(make(DEEP))
    with pytest.raises(InvalidJsonError, match="deeper than"):
        loads(make(DEEP)[: DEEP // 2])  # never closed: still refused before parsing


@pytest.mark.parametrize(
    "text",
    [
        b"{nope",
        b"",
        b'{"a": "unterminated',
        b'["' + b'\\"' * 10_000,  # an unterminated string of escaped quotes
        b'{"a": 1}]',
        b"[}",
        "[1]".encode("utf-16"),
        b'["\xff"]',
        b"[" + b"9" * 5000 + b"]",  # more digits than int() converts
    ],
)
def test_loads__refuses_what_is_not_json_with_a_domain_error(text: bytes) -> None:
    with pytest.raises(InvalidJsonError) as caught:
        loads(text)

    assert isinstance(caught.value, InvalidActivityError)  # a 400 wherever it escapes


def test_loads__takes_utf8_with_or_without_a_byte_order_mark_and_str() -> None:
    assert loads(b'\xef\xbb\xbf{"a": "\xc3\xa9"}') == {"a": "é"}
    assert loads('{"a": "é"}') == {"a": "é"}
    assert loads(b"[]", max_depth=1) == []


def test_decode_batch__skips_a_too_deep_payload() -> None:
    assert decode_batch("[" * DEEP) == []
    assert decode_batch('[{"kind": "inbox"}]')[0].kind == "inbox"
