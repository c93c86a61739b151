"""Unit tests for kizuna.activitypub.notes: addressing, note_json, create_json (pure, no I/O)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from kizuna.activitypub.context import NOTE_CONTEXT
from kizuna.activitypub.notes import (
    VISIBILITIES,
    HashtagTag,
    MentionTag,
    NoteView,
    addressing,
    create_json,
    note_json,
)
from kizuna.activitypub.vocab import AS_PUBLIC
from tests.unit.datafiles import assert_golden, peer_payload

BASE = "https://a.test"
FOLLOWERS = f"{BASE}/users/alice/followers"
BOB = "https://b.test/users/bob"
CAROL = "https://c.test/users/carol"

CONTENT = (
    '<p><span class="h-card" translate="no"><a href="https://b.test/@bob" class="u-url mention">'
    '@<span>bob</span></a></span> 東京へようこそ! <a href="https://a.test/tags/tokyo" '
    'class="mention hashtag" rel="tag">#<span>tokyo</span></a></p>'
)

NOTE = NoteView(
    id=f"{BASE}/users/alice/statuses/1",
    url=f"{BASE}/@alice/1",
    attributed_to=f"{BASE}/users/alice",
    content_html=CONTENT,
    summary=None,
    sensitive=False,
    visibility="public",
    followers_url=FOLLOWERS,
    published=datetime(2025, 6, 1, 12, 0, 0, 987654, tzinfo=UTC),
    updated=None,
    in_reply_to=None,
    mentions=(MentionTag(href=BOB, name="@bob@b.test"),),
    hashtags=(HashtagTag(href=f"{BASE}/tags/tokyo", name="#tokyo"),),
    language="ja",
    conversation="tag:a.test,2025-06-01:objectId=1:objectType=Conversation",
)


# --- addressing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        pytest.param("public", [AS_PUBLIC], [FOLLOWERS, BOB, CAROL], id="public"),
        pytest.param("unlisted", [FOLLOWERS], [AS_PUBLIC, BOB, CAROL], id="unlisted"),
        pytest.param("private", [FOLLOWERS], [BOB, CAROL], id="private"),
        pytest.param("direct", [BOB, CAROL], [], id="direct"),
    ],
)
def test_addressing__as_mastodon(visibility: str, to: list[str], cc: list[str]) -> None:
    assert addressing(visibility, FOLLOWERS, [BOB, CAROL]) == (to, cc)


def test_addressing__no_mentions() -> None:
    assert addressing("public", FOLLOWERS, []) == ([AS_PUBLIC], [FOLLOWERS])
    assert addressing("direct", FOLLOWERS, []) == ([], [])


def test_addressing__duplicate_mentions_once() -> None:
    assert addressing("direct", FOLLOWERS, iter([BOB, CAROL, BOB])) == ([BOB, CAROL], [])


def test_addressing__unknown_visibility_raises() -> None:
    with pytest.raises(ValueError, match="visibility"):
        addressing("friends", FOLLOWERS, [])


def test_note_view__unknown_visibility_raises() -> None:
    with pytest.raises(ValueError, match="visibility"):
        dataclasses.replace(NOTE, visibility="friends")


def test_visibilities__four() -> None:
    assert {"public", "unlisted", "private", "direct"} == VISIBILITIES


# --- note_json / create_json -------------------------------------------------------------------


def test_note_json__public_golden() -> None:
    assert_golden("note_public.json", note_json(NOTE))


def test_create_json__public_golden() -> None:
    assert_golden("create_public.json", create_json(NOTE))


def test_note_json__has_mastodon_keys() -> None:
    mastodon = peer_payload("mastodon-create-note.json")["object"]

    ours = note_json(NOTE, with_context=False)

    # `replies` is not emitted yet; attachments are always [] for now.
    assert set(mastodon) - {"replies"} == set(ours)
    assert [set(t) for t in mastodon["tag"]] == [set(t) for t in ours["tag"]]
    assert [t["type"] for t in ours["tag"]] == ["Mention", "Hashtag"]


def test_create_json__has_mastodon_keys_and_context() -> None:
    mastodon = peer_payload("mastodon-create-note.json")

    ours = create_json(NOTE)

    assert set(mastodon) == set(ours)
    assert ours["@context"][0] == mastodon["@context"][0]
    assert ours["@context"][1].items() >= mastodon["@context"][1].items()
    assert ours["@context"] == NOTE_CONTEXT


def test_note_json__fields() -> None:
    doc = note_json(NOTE)

    assert doc["@context"] == NOTE_CONTEXT
    assert doc["type"] == "Note"
    assert doc["summary"] is None
    assert doc["published"] == "2025-06-01T12:00:00Z"
    assert doc["to"] == [AS_PUBLIC]
    assert doc["cc"] == [FOLLOWERS, BOB]
    assert doc["contentMap"] == {"ja": CONTENT}
    assert doc["atomUri"] == NOTE.id
    assert doc["attachment"] == []
    assert doc["tag"] == [
        {"type": "Mention", "href": BOB, "name": "@bob@b.test"},
        {"type": "Hashtag", "href": f"{BASE}/tags/tokyo", "name": "#tokyo"},
    ]
    assert "updated" not in doc
    assert "replies" not in doc


def test_note_json__without_context() -> None:
    assert "@context" not in note_json(NOTE, with_context=False)


def test_note_json__content_warning_reply_edited() -> None:
    note = dataclasses.replace(
        NOTE,
        summary="ネタバレ",
        sensitive=True,
        in_reply_to=f"{CAROL}/statuses/9",
        updated=datetime(2025, 6, 2, 8, 0, 0, tzinfo=UTC),
        language=None,
        conversation=None,
    )

    doc = note_json(note)

    assert doc["summary"] == "ネタバレ"
    assert doc["sensitive"] is True
    assert doc["inReplyTo"] == doc["inReplyToAtomUri"] == f"{CAROL}/statuses/9"
    assert doc["updated"] == "2025-06-02T08:00:00Z"
    assert "contentMap" not in doc
    assert doc["conversation"] is None


def test_note_json__empty_summary_is_null() -> None:
    assert note_json(dataclasses.replace(NOTE, summary=""))["summary"] is None


def test_note_json__direct_addressed_to_mentions_only() -> None:
    doc = note_json(dataclasses.replace(NOTE, visibility="direct"))

    assert (doc["to"], doc["cc"]) == ([BOB], [])


def test_create_json__wraps_note() -> None:
    doc = create_json(NOTE)

    assert doc["id"] == f"{NOTE.id}/activity"
    assert doc["type"] == "Create"
    assert doc["actor"] == NOTE.attributed_to
    assert doc["published"] == "2025-06-01T12:00:00Z"
    assert doc["object"] == note_json(NOTE, with_context=False)
    assert (doc["to"], doc["cc"]) == (doc["object"]["to"], doc["object"]["cc"])


def test_create_json__lists_not_shared() -> None:
    doc = create_json(NOTE)

    doc["cc"].append("https://x.test/")
    doc["@context"][1]["sensitive"] = "x"

    assert doc["object"]["cc"] == [FOLLOWERS, BOB]
    assert create_json(NOTE)["@context"] == NOTE_CONTEXT
