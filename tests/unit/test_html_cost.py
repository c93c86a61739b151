"""The bound on remote HTML checked before bleach parses it (`html.check_html_cost`), and
every parser of remote HTML applying it: note content and content warning, actor bio and
profile fields."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from bleach.html5lib_shim import BleachHTMLParser

from kizuna.activitypub.actors import MAX_PROFILE_FIELDS, parse_actor
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.html import MAX_HTML_DEPTH, MAX_HTML_TAGS, check_html_cost, sanitize
from kizuna.activitypub.objects import parse_note

PEERS = Path(__file__).parents[1] / "data" / "peers"


def _note(**fields: Any) -> dict[str, Any]:
    return {
        "id": "https://m.test/users/pat/statuses/1",
        "type": "Note",
        "attributedTo": "https://m.test/users/pat",
        "content": "<p>hi</p>",
        **fields,
    }


def _actor(**fields: Any) -> dict[str, Any]:
    return {
        "id": "https://m.test/users/pat",
        "type": "Person",
        "preferredUsername": "pat",
        "inbox": "https://m.test/users/pat/inbox",
        **fields,
    }


def _nested(depth: int, name: str = "span") -> str:
    return f"<{name}>" * depth + "x" + f"</{name}>" * depth


def test_depth_up_to_the_bound_passes_and_one_more_is_refused() -> None:
    check_html_cost(_nested(MAX_HTML_DEPTH))
    with pytest.raises(InvalidActivityError, match="bio is nested more than 100 elements"):
        check_html_cost(_nested(MAX_HTML_DEPTH + 1), "bio")


def test_tag_count_is_bounded_however_flat() -> None:
    check_html_cost("<br>" * MAX_HTML_TAGS)
    with pytest.raises(InvalidActivityError, match="has 10001 tags"):
        check_html_cost("<br>" * (MAX_HTML_TAGS + 1))
    with pytest.raises(InvalidActivityError, match="tags"):
        check_html_cost("<a x" * 25_000)  # unclosed start tags are tags too


@pytest.mark.parametrize(
    "html",
    [
        "<i></b>" * 101,  # a stray end tag closes nothing
        "<p><b></p>" * 101,  # html5lib reopens the <b> in every paragraph
        "<table><td>" * 26,  # each builds table, tbody, tr, td
        "<B>" * 101,  # names are case-insensitive
        "<span/>" * 101,  # `/>` does not close a span in HTML
    ],
)
def test_depth_counts_what_html5lib_would_build(html: str) -> None:
    with pytest.raises(InvalidActivityError, match="nested more than"):
        check_html_cost(html)


@pytest.mark.parametrize(
    "html",
    [
        "<ul>" + "<li>item" * 500 + "</ul>",  # implied </li>
        "<p>para" * 500,  # implied </p>
        "<p>a<br>b<br/>c<img src=x><hr></p>" * 500,  # void elements
        ("<ul><li>" + "<p>x</p>" * 3 + "</li></ul>") * 500,
    ],
)
def test_sloppy_but_flat_html_passes(html: str) -> None:
    check_html_cost(html)


def test_every_peer_payload_passes() -> None:
    checked = 0
    for path in sorted(PEERS.glob("*.json")):
        for value in _strings(json.loads(path.read_text())):
            if "<" in value:
                check_html_cost(value)
                checked += 1
    assert checked >= 5


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_sanitize_checks_before_parsing() -> None:
    with pytest.raises(InvalidActivityError, match="HTML is nested"):
        sanitize(_nested(MAX_HTML_DEPTH + 1))


def test_note_content_and_content_warning_are_bounded() -> None:
    with pytest.raises(InvalidActivityError, match="content is nested"):
        parse_note(_note(content=_nested(500)))
    with pytest.raises(InvalidActivityError, match="content has 20000 tags"):
        parse_note(_note(content="<b>" * 20_000))
    with pytest.raises(InvalidActivityError, match="summary has 10001 tags"):
        parse_note(_note(summary="<a x" * 10_001))


def test_content_warning_is_read_from_sanitised_html() -> None:
    # The standard library's parser raised AssertionError on `<![<!`; HTML (and bleach)
    # reads `<![…>` as a comment.
    note = parse_note(_note(summary="spoiler <![<![ x> &amp; <b>more</b>"))
    assert note.summary == "spoiler & more"


def test_actor_bio_fields_and_their_sum_are_bounded() -> None:
    with pytest.raises(InvalidActivityError, match="summary is nested"):
        parse_actor(_actor(summary=_nested(500)))
    deep_field = {"type": "PropertyValue", "name": "a", "value": _nested(500)}
    with pytest.raises(InvalidActivityError, match="profile field value is nested"):
        parse_actor(_actor(attachment=[deep_field]))
    many = [{"type": "PropertyValue", "name": "a", "value": "b"}] * (MAX_PROFILE_FIELDS + 1)
    with pytest.raises(InvalidActivityError, match="too many profile fields: 51"):
        parse_actor(_actor(attachment=many))
    # Each value under the bound, all of them together over it.
    flood = [{"type": "PropertyValue", "name": "a", "value": "<b>x</b>" * 500}] * 11
    with pytest.raises(InvalidActivityError, match="profile fields have 11000 tags"):
        parse_actor(_actor(attachment=flood))


def test_a_long_real_post_and_profile_pass() -> None:
    link = '<a href="https://ak.test/notice/1">a link</a>'
    content = f"<p>{'A sentence of a long post. ' * 10}{link}<br>more</p>" * 70
    assert len(content) > 20_000
    assert parse_note(_note(content=content)).content_html.count("<p>") == 70
    fields = [{"type": "PropertyValue", "name": f"f{i}", "value": link} for i in range(20)]
    actor = parse_actor(_actor(summary="<p>bio</p>" * 50, attachment=fields))
    assert len(actor.fields) == 20


def _built_depth(html: str) -> int:
    """How deep bleach's parser (html5lib's tree builder) nests the tree it builds."""
    parser = BleachHTMLParser(
        None, strip=False, consume_entities=False, namespaceHTMLElements=False
    )
    root = parser.parseFragment(html)
    deepest, stack = 0, [(root, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)
    return deepest


def test_html_that_passes_is_never_built_deeper_than_the_bound() -> None:
    # Short random tag soups (misnested, stray end tags, tables, formatting elements with
    # attributes that html5lib reopens), each repeated more and more times.
    names = ["b", "i", "a", "span", "p", "li", "ul", "em", "table", "td", "tr", "div", "br"]
    names += ["code", "pre", "blockquote", "font", "nobr", "select", "option", "button", "h1"]
    rnd, passed = random.Random(14), 0
    for _ in range(300):
        parts = []
        for _ in range(rnd.randint(1, 6)):
            name, roll = rnd.choice(names), rnd.random()
            if roll < 0.4:
                parts.append(f"</{name}>")
            elif roll < 0.9:
                parts.append(f"<{name} a={rnd.randint(0, 9)}>" if roll < 0.6 else f"<{name}>")
            else:
                parts.append("x")
        for repeats in (5, 15, 40, 120):  # some land just under the bound
            html = "".join(parts) * repeats
            try:
                check_html_cost(html)
            except InvalidActivityError:
                continue
            # + 2: the fragment's root, and a tbody html5lib adds.
            assert _built_depth(html) <= MAX_HTML_DEPTH + 2, html[:200]
            passed += 1
    assert passed >= 300  # the property was checked, not skipped
