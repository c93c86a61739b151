"""Unit tests for kizuna.activitypub.vocab, context and collections (pure, no I/O)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kizuna.activitypub.collections import ordered_collection_json, ordered_collection_page_json
from kizuna.activitypub.context import (
    ACTOR_CONTEXT,
    AS_CONTEXT,
    NOTE_CONTEXT,
    actor_context,
    note_context,
)
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.vocab import (
    ACTIVITY_MEDIA_TYPES,
    ACTOR_TYPES,
    AS_PUBLIC,
    as_list,
    get_id,
    is_activity_media_type,
    is_http_url,
    isoformat_z,
    parse_media_type,
    require_str,
    wants_activity_json,
)

# --- get_id / as_list / require_str ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("https://a.test/1", "https://a.test/1", id="string"),
        pytest.param({"id": "https://a.test/1", "type": "Note"}, "https://a.test/1", id="object"),
        pytest.param(
            [{"id": "https://a.test/1"}, "https://a.test/2"], "https://a.test/1", id="list"
        ),
        pytest.param(["https://a.test/2"], "https://a.test/2", id="list_of_str"),
        pytest.param([], None, id="empty_list"),
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty_string"),
        pytest.param({"type": "Note"}, None, id="object_without_id"),
        pytest.param({"id": 5}, None, id="non_string_id"),
        pytest.param(42, None, id="number"),
    ],
)
def test_get_id__accepts_string_object_or_list(value: Any, expected: str | None) -> None:
    assert get_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, [], id="none"),
        pytest.param([], [], id="empty_list"),
        pytest.param(["a", "b"], ["a", "b"], id="list"),
        pytest.param("a", ["a"], id="string"),
        pytest.param({"id": "a"}, [{"id": "a"}], id="object"),
    ],
)
def test_as_list__wraps_scalars(value: Any, expected: list[Any]) -> None:
    assert as_list(value) == expected


def test_as_list__returns_a_copy() -> None:
    original = ["a"]

    result = as_list(original)
    result.append("b")

    assert original == ["a"]


def test_require_str__returns_value() -> None:
    assert require_str({"id": "https://a.test/1"}, "id") == "https://a.test/1"


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({}, id="missing"),
        pytest.param({"id": None}, id="null"),
        pytest.param({"id": ""}, id="empty"),
        pytest.param({"id": ["https://a.test/1"]}, id="list"),
    ],
)
def test_require_str__raises_invalid_activity(doc: dict[str, Any]) -> None:
    with pytest.raises(InvalidActivityError, match="'id'"):
        require_str(doc, "id")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.test/x", True),
        ("HTTP://a.test", True),
        ("ftp://a.test/x", False),
        ("javascript:alert(1)", False),
        ("/users/alice", False),
        ("https://", False),
        ("https://[::1", False),
        (None, False),
    ],
)
def test_is_http_url__only_absolute_http(value: Any, expected: bool) -> None:
    assert is_http_url(value) is expected


def test_constants__match_activitystreams() -> None:
    assert AS_PUBLIC == "https://www.w3.org/ns/activitystreams#Public"
    assert ACTIVITY_MEDIA_TYPES == (
        "application/activity+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    )
    assert {"Person", "Service", "Application", "Group", "Organization"} == ACTOR_TYPES


# --- isoformat_z -------------------------------------------------------------------------------


def test_isoformat_z__utc_whole_seconds() -> None:
    moment = datetime(2025, 6, 1, 21, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9)))

    assert isoformat_z(moment) == "2025-06-01T12:00:00Z"


def test_isoformat_z__accepts_utc() -> None:
    assert isoformat_z(datetime(2023, 4, 1, tzinfo=UTC)) == "2023-04-01T00:00:00Z"


def test_isoformat_z__naive_datetime_raises() -> None:
    with pytest.raises(ValueError, match="naive"):
        isoformat_z(datetime(2025, 6, 1, 12, 0, 0))  # naive on purpose


# --- media types -------------------------------------------------------------------------------


def test_parse_media_type__lowercases_and_unquotes() -> None:
    parsed = parse_media_type(
        'Application/LD+JSON ; Profile="https://www.w3.org/ns/activitystreams"'
    )

    assert parsed == ("application/ld+json", {"profile": "https://www.w3.org/ns/activitystreams"})


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        pytest.param("application/activity+json", True, id="activity_json"),
        pytest.param("application/activity+json; charset=utf-8", True, id="with_charset"),
        pytest.param(
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            True,
            id="ld_json_profile",
        ),
        pytest.param(
            'application/ld+json; profile="https://example.test/x https://www.w3.org/ns/activitystreams"',
            True,
            id="ld_json_profile_among_several",
        ),
        pytest.param("application/ld+json", False, id="ld_json_without_profile"),
        pytest.param("application/json", False, id="plain_json"),
        pytest.param("text/html", False, id="html"),
    ],
)
def test_is_activity_media_type__needs_profile_on_ld_json(media_type: str, expected: bool) -> None:
    assert is_activity_media_type(media_type) is expected


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param("application/activity+json", True, id="activity_json"),
        pytest.param("APPLICATION/Activity+JSON", True, id="case_insensitive"),
        pytest.param(
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            True,
            id="ld_json_with_profile",
        ),
        pytest.param("application/ld+json", True, id="ld_json_without_profile"),
        pytest.param(
            "application/activity+json, application/ld+json", True, id="mastodon_fetch_accept"
        ),
        pytest.param("text/html, application/activity+json;q=0.5", True, id="listed_with_html"),
        pytest.param("application/activity+json;q=0", False, id="q_zero"),
        pytest.param("application/activity+json; q=0.000, text/html", False, id="q_zero_decimals"),
        pytest.param("application/activity+json;q=junk", True, id="malformed_q_ignored"),
        pytest.param("text/html", False, id="html"),
        pytest.param("*/*", False, id="wildcard"),
        pytest.param("application/*", False, id="type_wildcard"),
        pytest.param(BROWSER_ACCEPT, False, id="browser"),
        pytest.param("application/json", False, id="plain_json"),
        pytest.param("", False, id="empty"),
        pytest.param('text/html; x="a,application/activity+json"', False, id="comma_inside_quotes"),
    ],
)
def test_wants_activity_json__table(accept: str, expected: bool) -> None:
    assert wants_activity_json(accept) is expected


# --- context -----------------------------------------------------------------------------------


def test_actor_context__is_a_fresh_copy() -> None:
    first = actor_context()
    first[2]["schema"] = "https://schema.org#"
    first.append("https://example.test/ctx")

    assert actor_context() == ACTOR_CONTEXT
    assert ACTOR_CONTEXT[2]["schema"] == "http://schema.org#"
    assert len(ACTOR_CONTEXT) == 3


def test_note_context__is_a_fresh_copy() -> None:
    first = note_context()
    first[1]["focalPoint"]["@container"] = "@set"

    assert NOTE_CONTEXT[1]["focalPoint"]["@container"] == "@list"
    assert note_context() == NOTE_CONTEXT
    assert NOTE_CONTEXT[0] == AS_CONTEXT


# --- collections -------------------------------------------------------------------------------


def test_ordered_collection_json__paged_omits_none() -> None:
    doc = ordered_collection_json(
        id="https://a.test/users/alice/outbox",
        total_items=3,
        first="https://a.test/users/alice/outbox?page=true",
    )

    assert doc == {
        "@context": AS_CONTEXT,
        "id": "https://a.test/users/alice/outbox",
        "type": "OrderedCollection",
        "totalItems": 3,
        "first": "https://a.test/users/alice/outbox?page=true",
    }


def test_ordered_collection_json__inline_items_are_copied() -> None:
    items = ["https://a.test/users/alice/statuses/1"]

    doc = ordered_collection_json(
        id="https://a.test/users/alice/collections/featured", total_items=1, items=items
    )
    doc["orderedItems"].append("x")

    assert items == ["https://a.test/users/alice/statuses/1"]
    assert "first" not in doc
    assert "last" not in doc


def test_ordered_collection_json__empty_items_kept() -> None:
    doc = ordered_collection_json(id="https://a.test/c", total_items=0, items=[])

    assert doc["orderedItems"] == []


def test_ordered_collection_page_json__links_and_items() -> None:
    doc = ordered_collection_page_json(
        id="https://a.test/users/alice/followers?page=2",
        part_of="https://a.test/users/alice/followers",
        items=("https://b.test/users/bob",),
        next="https://a.test/users/alice/followers?page=3",
        prev="https://a.test/users/alice/followers?page=1",
    )

    assert doc == {
        "@context": AS_CONTEXT,
        "id": "https://a.test/users/alice/followers?page=2",
        "type": "OrderedCollectionPage",
        "next": "https://a.test/users/alice/followers?page=3",
        "prev": "https://a.test/users/alice/followers?page=1",
        "partOf": "https://a.test/users/alice/followers",
        "orderedItems": ["https://b.test/users/bob"],
    }


def test_ordered_collection_page_json__total_items_when_given() -> None:
    doc = ordered_collection_page_json(
        id="https://a.test/c?page=1", part_of="https://a.test/c", items=[], total_items=0
    )

    assert doc["totalItems"] == 0
    assert "next" not in doc
    assert "prev" not in doc


# --- purity ------------------------------------------------------------------------------------

PURE = (
    "kizuna.activitypub.errors",
    "kizuna.activitypub.vocab",
    "kizuna.activitypub.context",
    "kizuna.activitypub.html",
    "kizuna.activitypub.actors",
    "kizuna.activitypub.collections",
    "kizuna.activitypub.notes",
    "kizuna.activitypub.nodeinfo",
    "kizuna.webfinger.codec",
)
PROBE = f"""
import sys
for name in {PURE!r}:
    __import__(name)
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("aiohttp", "sqlalchemy"))))
"""


def test_codec_modules__do_not_import_io_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"codecs pulled in: {result.stdout.strip()}"
