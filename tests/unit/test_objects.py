"""Unit tests for kizuna.activitypub.objects: parse_activity and parse_note on real-world
payloads (tests/data/peers), variants servers send, and hostile documents. Pure, no I/O."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any, Literal

import pytest

from kizuna.activitypub.actors import RemoteActor
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.objects import (
    MAX_ATTACHMENTS,
    Announce,
    Attachment,
    Block,
    CollectionChange,
    Create,
    CustomEmoji,
    Delete,
    EmojiReact,
    Follow,
    Like,
    Mention,
    Move,
    RemoteNote,
    Response,
    Undo,
    Undone,
    Unknown,
    Update,
    note_visibility,
    parse_activity,
    parse_note,
)
from kizuna.activitypub.vocab import AS_PUBLIC
from tests.unit.datafiles import peer_payload

ALICE = "https://mastodon.example/users/alice"
BOB = "https://kizuna.example/users/bob"
NOTE_URI = "https://kizuna.example/notes/01HZX3K9Q2"
LINK = 'rel="nofollow noopener noreferrer" target="_blank"'


def _note(**fields: Any) -> dict[str, Any]:
    """A minimal valid Note with `fields` replacing or adding keys."""
    return {
        "id": "https://remote.test/notes/1",
        "type": "Note",
        "attributedTo": "https://remote.test/users/zoe",
        "content": "<p>hi</p>",
        "to": [AS_PUBLIC],
        "cc": ["https://remote.test/users/zoe/followers"],
        **fields,
    }


def _inner_object(name: str) -> dict[str, Any]:
    obj = peer_payload(name)["object"]
    assert isinstance(obj, dict)
    return obj


# --- parse_activity on peer payloads --------------------------------------------------------------


def test_parse_activity__mastodon_follow() -> None:
    doc = peer_payload("mastodon-follow.json")

    assert parse_activity(doc) == Follow(
        id="https://mastodon.example/2f6c1b8e-5d3a-4c1e-9a77-0b9b1d3c4e5f",
        actor=ALICE,
        object=BOB,
        as_received=doc,
    )


def test_parse_activity__mastodon_undo_follow() -> None:
    doc = peer_payload("mastodon-undo-follow.json")

    parsed = parse_activity(doc)

    assert parsed == Undo(
        id="https://mastodon.example/users/alice#follows/987/undo",
        actor=ALICE,
        undone=Undone(
            type="Follow",
            id="https://mastodon.example/2f6c1b8e-5d3a-4c1e-9a77-0b9b1d3c4e5f",
            actor=ALICE,
            object=BOB,
        ),
        as_received=doc,
    )


def test_parse_activity__undo_with_bare_id() -> None:
    doc = {"id": f"{ALICE}#likes/1/undo", "type": "Undo", "actor": ALICE, "object": f"{ALICE}#l/1"}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Undo)
    assert parsed.undone == Undone(id=f"{ALICE}#l/1")


def test_parse_activity__mastodon_like_is_a_favourite() -> None:
    doc = peer_payload("mastodon-like.json")

    assert parse_activity(doc) == Like(
        id="https://mastodon.example/users/alice#likes/5551",
        actor=ALICE,
        object_id=NOTE_URI,
        content=None,
        as_received=doc,
    )


def test_parse_activity__misskey_like_reaction_keeps_emoji() -> None:
    parsed = parse_activity(peer_payload("misskey-like-reaction.json"))

    assert isinstance(parsed, Like)
    assert (parsed.content, parsed.emojis, parsed.object_id) == ("👍", (), NOTE_URI)


def test_parse_activity__misskey_custom_emoji_reaction() -> None:
    parsed = parse_activity(peer_payload("misskey-like-custom-emoji.json"))

    assert isinstance(parsed, Like)
    assert parsed.content == ":blobcat:"
    assert parsed.emojis == (
        CustomEmoji(
            shortcode="blobcat",
            icon_url="https://misskey.example/files/emoji-blobcat.png",
            id="https://misskey.example/emojis/blobcat",
        ),
    )


def test_parse_activity__misskey_reaction_preferred_over_content() -> None:
    doc = {**peer_payload("misskey-like-reaction.json"), "content": "x", "_misskey_reaction": "🎉"}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Like)
    assert parsed.content == "🎉"


def test_parse_activity__akkoma_emojireact() -> None:
    doc = peer_payload("akkoma-emojireact.json")

    assert parse_activity(doc) == EmojiReact(
        id="https://akkoma.example/activities/6f1d2c3b-8e9a-4b7c-a1d2-3e4f5a6b7c8d",
        actor="https://akkoma.example/users/carol",
        object_id=NOTE_URI,
        content=":akko_wave:",
        emojis=(
            CustomEmoji(
                shortcode="akko_wave",
                icon_url="https://akkoma.example/emoji/akko_wave.png",
                id="https://akkoma.example/emoji/akko_wave.png",
            ),
        ),
        as_received=doc,
    )


def test_parse_activity__mastodon_delete_tombstone() -> None:
    parsed = parse_activity(peer_payload("mastodon-delete-tombstone.json"))

    assert isinstance(parsed, Delete)
    assert parsed.object_id == "https://mastodon.example/users/alice/statuses/113000000000000001"
    assert not parsed.is_actor_deletion


@pytest.mark.parametrize(
    ("obj", "is_actor"),
    [
        pytest.param("https://mastodon.example/users/alice/statuses/1", False, id="bare-id"),
        pytest.param(ALICE, True, id="actor-id"),
        pytest.param({"id": ALICE, "type": "Person"}, True, id="embedded-actor"),
    ],
)
def test_parse_activity__delete_object_forms(obj: Any, is_actor: bool) -> None:
    doc = {"id": f"{ALICE}#delete", "type": "Delete", "actor": ALICE, "object": obj}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Delete)
    assert parsed.is_actor_deletion is is_actor


def test_parse_activity__mastodon_accept_with_embedded_follow() -> None:
    doc = peer_payload("mastodon-accept-follow.json")

    assert parse_activity(doc) == Response(
        id="https://mastodon.example/users/alice#accepts/follows/4242",
        actor=ALICE,
        kind="Accept",
        follow_id="https://kizuna.example/follows/01HZX5FOLLOW",
        follow_actor=BOB,
        follow_object=ALICE,
    )


def test_parse_activity__pleroma_accept_with_follow_id_only() -> None:
    doc = peer_payload("pleroma-accept-follow-id.json")

    assert parse_activity(doc) == Response(
        id="https://pleroma.example/activities/8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
        actor="https://pleroma.example/users/erin",
        kind="Accept",
        follow_id="https://kizuna.example/follows/01HZX6FOLLOW",
        follow_actor=None,
        follow_object=None,
    )


def test_parse_activity__reject_of_follow() -> None:
    doc = {**peer_payload("mastodon-accept-follow.json"), "type": "Reject"}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Response)
    assert parsed.kind == "Reject"


def test_parse_activity__accept_of_other_embedded_type_is_unknown() -> None:
    doc = {
        "id": f"{ALICE}#accepts/quotes/1",
        "type": "Accept",
        "actor": ALICE,
        "object": {"id": "https://kizuna.example/qr/1", "type": "QuoteRequest"},
    }

    assert parse_activity(doc) == Unknown(
        type="Accept", id=f"{ALICE}#accepts/quotes/1", actor=ALICE
    )


def test_parse_activity__accept_without_object_raises() -> None:
    doc = {"id": f"{ALICE}#accepts/follows/1", "type": "Accept", "actor": ALICE}

    with pytest.raises(InvalidActivityError, match="object is missing"):
        parse_activity(doc)


def test_parse_activity__lemmy_announce_of_create_page() -> None:
    doc = peer_payload("lemmy-announce-create-page.json")

    announce = parse_activity(doc)

    assert isinstance(announce, Announce)
    assert announce.actor == "https://lemmy.example/c/kizuna"
    assert announce.to == (AS_PUBLIC,)
    assert announce.cc == ("https://lemmy.example/c/kizuna/followers",)
    inner = announce.embedded
    assert isinstance(inner, Create)
    assert inner.actor == "https://lemmy.example/u/dave"
    assert inner.object_id == "https://lemmy.example/post/1234"
    assert inner.note is not None
    assert inner.note.id == inner.object_id


def test_parse_activity__announce_with_bare_object() -> None:
    doc = {
        "id": f"{ALICE}/statuses/2/activity",
        "type": "Announce",
        "actor": ALICE,
        "published": "2025-06-01T12:00:00Z",
        "to": "as:Public",
        "cc": [BOB],
        "object": NOTE_URI,
    }

    parsed = parse_activity(doc)

    assert isinstance(parsed, Announce)
    assert (parsed.object_id, parsed.to, parsed.embedded) == (NOTE_URI, (AS_PUBLIC,), None)


@pytest.mark.parametrize(
    "name",
    ["mastodon-create-note.json", "gotosocial-create-note.json", "misskey-create-note.json"],
)
def test_parse_activity__create_note_from_peers(name: str) -> None:
    doc = peer_payload(name)

    object_id = doc["object"]["id"]

    parsed = parse_activity(doc)

    assert isinstance(parsed, Create)
    assert parsed.as_received is doc
    assert parsed.object_id == object_id
    assert parsed.note is not None
    assert parsed.note.id == object_id


def test_parse_activity__create_with_bare_object_id() -> None:
    doc = {"id": f"{NOTE_URI}/a", "type": "Create", "actor": BOB, "object": NOTE_URI}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Create)
    assert (parsed.note, parsed.object_id) == (None, NOTE_URI)


def test_parse_activity__block_and_move() -> None:
    block = {"id": "https://m.test/b/1", "type": "Block", "actor": ALICE, "object": BOB}
    move = {
        "id": f"{ALICE}#moves/1",
        "type": "Move",
        "actor": ALICE,
        "object": ALICE,
        "target": "https://new.example/users/alice",
    }

    assert parse_activity(block) == Block(id="https://m.test/b/1", actor=ALICE, object=BOB)
    assert parse_activity(move) == Move(
        id=f"{ALICE}#moves/1",
        actor=ALICE,
        object=ALICE,
        target="https://new.example/users/alice",
    )


def test_parse_activity__community_ban_has_target_and_reason() -> None:
    group = "https://lemmy.example/c/kizuna"
    doc = {
        "id": "https://lemmy.example/activities/block/1",
        "type": "Block",
        "actor": "https://lemmy.example/u/mod",
        "object": BOB,
        "target": group,
        "summary": "spam",
    }

    assert parse_activity(doc) == Block(
        id=doc["id"], actor="https://lemmy.example/u/mod", object=BOB, target=group, summary="spam"
    )
    assert parse_activity({**doc, "summary": {"x": 1}}) == Block(
        id=doc["id"], actor="https://lemmy.example/u/mod", object=BOB, target=group
    )


@pytest.mark.parametrize("kind", ["Add", "Remove"])
def test_parse_activity__add_and_remove_name_object_and_target(
    kind: Literal["Add", "Remove"],
) -> None:
    doc: dict[str, Any] = {
        "id": "https://lemmy.example/activities/add/1",
        "type": kind,
        "actor": "https://lemmy.example/u/mod",
        "object": "https://lemmy.example/post/1",
        "target": {"id": "https://lemmy.example/c/kizuna/featured"},
    }

    assert parse_activity(doc) == CollectionChange(
        id=doc["id"],
        actor="https://lemmy.example/u/mod",
        kind=kind,
        object="https://lemmy.example/post/1",
        target="https://lemmy.example/c/kizuna/featured",
    )


def test_parse_activity__undo_of_community_ban_names_its_target() -> None:
    ban = {
        "id": "https://lemmy.example/activities/block/1",
        "type": "Block",
        "actor": "https://lemmy.example/u/mod",
        "object": BOB,
        "target": "https://lemmy.example/c/kizuna",
    }
    doc = {"id": f"{ban['id']}/undo", "type": "Undo", "actor": ban["actor"], "object": ban}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Undo)
    assert parsed.undone == Undone(
        type="Block",
        id=ban["id"],
        actor=ban["actor"],
        object=BOB,
        target="https://lemmy.example/c/kizuna",
    )


def test_parse_activity__update_of_own_actor_document() -> None:
    actor_doc = peer_payload("mastodon-actor.json")
    doc = {"id": f"{ALICE}#updates/1", "type": "Update", "actor": ALICE, "object": actor_doc}

    parsed = parse_activity(doc)

    assert isinstance(parsed, Update)
    assert isinstance(parsed.object, RemoteActor)
    assert parsed.object.id == ALICE


def test_parse_activity__update_of_a_post_other_object_or_bare_id() -> None:
    def update(obj: Any) -> Update:
        parsed = parse_activity(
            {"id": f"{ALICE}#updates/1", "type": "Update", "actor": ALICE, "object": obj}
        )
        assert isinstance(parsed, Update)
        return parsed

    note = update(_note(id=f"{ALICE}/statuses/1", attributedTo=ALICE)).object
    other = update({"id": f"{ALICE}/events/1", "type": "Event"}).object
    bare = update(f"{ALICE}/statuses/1")

    assert isinstance(note, RemoteNote)
    assert note.id == f"{ALICE}/statuses/1"
    assert other == Unknown(type="Event", id=f"{ALICE}/events/1")
    assert (bare.object, bare.object_id) == (None, f"{ALICE}/statuses/1")


def test_parse_activity__create_of_what_is_not_a_post_raises() -> None:
    doc = {
        "id": f"{ALICE}/events/1/activity",
        "type": "Create",
        "actor": ALICE,
        "object": {"id": f"{ALICE}/events/1", "type": "Event"},
    }

    with pytest.raises(InvalidActivityError, match="not a note type"):
        parse_activity(doc)


def test_parse_activity__announce_embeds_a_post_or_an_activity() -> None:
    group = "https://lemmy.example/c/kizuna"
    page = peer_payload("lemmy-page.json")
    like = {
        "id": "https://lemmy.example/activities/like/1",
        "type": "Like",
        "actor": "https://lemmy.example/u/dave",
        "object": page["id"],
    }

    def announce(obj: Any) -> Announce:
        parsed = parse_activity(
            {
                "id": f"{group}/activities/announce/1",
                "type": "Announce",
                "actor": group,
                "object": obj,
            }
        )
        assert isinstance(parsed, Announce)
        return parsed

    bare_page = announce(page)
    relayed_like = announce(like)

    assert isinstance(bare_page.embedded, RemoteNote)
    assert (bare_page.object_id, bare_page.embedded.id) == (page["id"], page["id"])
    assert relayed_like.object_id == like["id"]
    assert relayed_like.embedded == Like(
        id=like["id"], actor=like["actor"], object_id=page["id"], content=None, as_received=like
    )


def test_remote_note__seen_by_reads_private_with_the_followers_collection() -> None:
    followers = "https://remote.test/users/zoe/fans"
    doc = _note(to=[followers], cc=[])

    note = parse_note(doc)

    assert note.visibility == "direct"  # an unusual followers id: not known as one yet
    assert note.seen_by(followers) == parse_note(doc, followers_url=followers)
    assert note.seen_by(followers).visibility == "private"


def test_parse_activity__move_without_target_raises() -> None:
    doc = {"id": f"{ALICE}#moves/1", "type": "Move", "actor": ALICE, "object": ALICE}

    with pytest.raises(InvalidActivityError, match="target is missing"):
        parse_activity(doc)


def test_parse_activity__type_list_uses_first() -> None:
    doc = {**peer_payload("mastodon-follow.json"), "type": ["Follow", "Activity"]}

    assert isinstance(parse_activity(doc), Follow)


@pytest.mark.parametrize("kind", ["Flag", "Dislike", "Question"])
def test_parse_activity__other_types_are_unknown(kind: str) -> None:
    doc = {"id": "https://x.test/1", "type": kind, "actor": ALICE, "object": BOB}

    assert parse_activity(doc) == Unknown(type=kind, id="https://x.test/1", actor=ALICE)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param([], "not a JSON object", id="list"),
        pytest.param({"id": "https://x.test/1", "actor": ALICE}, "no type", id="no-type"),
        pytest.param(
            {"type": "Follow", "actor": ALICE, "object": BOB}, "id is missing", id="no-id"
        ),
        pytest.param(
            {"id": "https://x.test/1", "type": "Follow", "object": BOB},
            "actor is missing",
            id="no-actor",
        ),
        pytest.param(
            {"id": "urn:uuid:1", "type": "Follow", "actor": ALICE, "object": BOB},
            "not an http",
            id="urn-id",
        ),
        pytest.param(
            {
                "id": "https://x.test/1",
                "type": "Like",
                "actor": "javascript:alert(1)",
                "object": BOB,
            },
            "actor is not an http",
            id="js-actor",
        ),
        pytest.param(
            {"id": "https://x.test/" + "a" * 2048, "type": "Like", "actor": ALICE, "object": BOB},
            "longer than 2048",
            id="long-id",
        ),
    ],
)
def test_parse_activity__malformed_raises(doc: Any, message: str) -> None:
    with pytest.raises(InvalidActivityError, match=message):
        parse_activity(doc)


def test_parse_activity__does_not_mutate_input() -> None:
    doc = peer_payload("lemmy-announce-create-page.json")
    before = copy.deepcopy(doc)

    parse_activity(doc)

    assert doc == before


# --- parse_note on peer payloads --------------------------------------------------------------


def test_parse_note__mastodon_note() -> None:
    note = parse_note(_inner_object("mastodon-create-note.json"))

    assert note.id == "https://mastodon.example/users/alice/statuses/113000000000000001"
    assert note.type == "Note"
    assert note.url == "https://mastodon.example/@alice/113000000000000001"
    assert note.attributed_to == ALICE
    assert note.content_html == (
        f'<p><span class="h-card"><a href="https://kizuna.example/@bob" class="u-url mention" '
        f'{LINK}>@<span>bob</span></a></span> welcome! <a href="https://mastodon.example/tags/'
        f'kizuna" class="mention hashtag" {LINK}>#<span>kizuna</span></a></p>'
    )
    assert (note.summary, note.sensitive, note.in_reply_to) == (None, False, None)
    assert note.published == "2025-06-01T12:00:00Z"
    assert note.visibility == "public"
    assert note.mentions == (Mention(href=BOB, name="@bob@kizuna.example"),)
    assert note.hashtags == ("kizuna",)
    assert note.attachments == (
        Attachment(
            url="https://files.mastodon.example/media_attachments/files/1/original/cat.jpg",
            media_type="image/jpeg",
            name="A cat asleep on a keyboard",
            kind="Document",
        ),
    )
    assert (note.attachments_truncated, note.language, note.audience) == (False, "en", None)
    assert (note.poll_options, note.poll_end, note.quote) == ((), None, None)


def test_parse_note__gotosocial_single_values_and_empty_summary() -> None:
    note = parse_note(_inner_object("gotosocial-create-note.json"))

    assert note.attributed_to == "https://gts.example/users/dana"
    assert note.to == (AS_PUBLIC,)  # GtS writes a one-element `to` as a bare string
    assert note.visibility == "public"
    assert note.summary is None  # GtS sends "" for no content warning
    assert note.mentions == (Mention(href=BOB, name="@bob@kizuna.example"),)  # `tag` is an object
    assert note.in_reply_to == NOTE_URI
    assert note.content_html.startswith('<p>hi <span class="h-card"><a href="https://kizuna.')
    assert note.language == "en"


def test_parse_note__misskey_extensions_do_not_break_parsing() -> None:
    note = parse_note(_inner_object("misskey-create-note.json"))

    assert note.quote == "https://mastodon.example/users/alice/statuses/113000000000000001"
    assert note.url == note.id  # Misskey sends no `url`
    assert note.hashtags == ("kizuna",)  # "#Kizuna" normalised
    assert note.mentions == (Mention(href=BOB, name="@bob@kizuna.example"),)
    assert note.emojis == (
        CustomEmoji(
            shortcode="blobcat",
            icon_url="https://misskey.example/files/emoji-blobcat.png",
            id="https://misskey.example/emojis/blobcat",
        ),
    )
    assert note.attachments == (
        Attachment(
            url="https://misskey.example/files/webpublic-5c1d2e3f.webp",
            media_type="image/webp",
            name=None,
            kind="Document",
        ),
    )
    assert "これ見て :blobcat:" in note.content_html
    assert note.language is None  # no contentMap
    assert note.visibility == "public"


def test_parse_note__mastodon_question() -> None:
    note = parse_note(_inner_object("mastodon-create-question.json"))

    assert note.type == "Question"
    assert note.poll_options == ("vim", "emacs", "nano")
    assert note.poll_multiple is False
    assert note.poll_end == "2025-06-02T14:00:00Z"
    assert note.content_html == "<p>Which editor do you use?</p>"


def test_parse_note__question_any_of_and_closed() -> None:
    doc = _inner_object("mastodon-create-question.json")
    doc["anyOf"] = doc.pop("oneOf")
    doc["closed"] = doc.pop("endTime")

    note = parse_note(doc)

    assert note.poll_multiple is True
    assert note.poll_options == ("vim", "emacs", "nano")
    assert note.poll_end == "2025-06-02T14:00:00Z"


def test_parse_note__lemmy_page_title_link_and_audience() -> None:
    note = parse_note(peer_payload("lemmy-page.json"))

    assert note.type == "Page"
    assert note.attributed_to == "https://lemmy.example/u/dave"
    assert note.audience == "https://lemmy.example/c/kizuna"
    assert note.content_html == (
        "<p><strong>Benchmarks: Kizuna vs. &lt;everything&gt; &amp; more</strong></p>"
        f'<p><a href="https://kizuna.example/blog/benchmarks" {LINK}>'
        "https://kizuna.example/blog/benchmarks</a></p>"
        "<p>We measured inbox throughput.</p>\n"
    )
    assert note.attachments == (
        Attachment(
            url="https://kizuna.example/blog/benchmarks", media_type=None, name=None, kind="Link"
        ),
    )
    assert note.language == "en"  # Lemmy's {"identifier": "en"}
    assert note.visibility == "public"


def test_parse_note__lemmy_page_inside_announce() -> None:
    page = peer_payload("lemmy-announce-create-page.json")["object"]["object"]

    note = parse_note(page)

    assert note.content_html.startswith("<p><strong>Kizuna 0.3 released</strong></p>")
    assert note.audience == "https://lemmy.example/c/kizuna"


def test_parse_note__article_links_url_when_it_differs_from_id() -> None:
    doc = _note(
        type="Article", name="On bonds", url="https://blog.test/on-bonds", content="<p>Text</p>"
    )

    note = parse_note(doc)

    assert note.content_html == (
        "<p><strong>On bonds</strong></p>"
        f'<p><a href="https://blog.test/on-bonds" {LINK}>https://blog.test/on-bonds</a></p>'
        "<p>Text</p>"
    )


def test_parse_note__page_with_url_equal_to_id_gets_title_only() -> None:
    note = parse_note(_note(type="Page", name="Title", url="https://remote.test/notes/1"))

    assert note.content_html == "<p><strong>Title</strong></p><p>hi</p>"


def test_parse_note__note_name_is_not_a_title() -> None:
    assert parse_note(_note(name="ignored")).content_html == "<p>hi</p>"


def test_parse_note__attributed_to_list_takes_person_not_group() -> None:
    doc = _note(
        attributedTo=[
            {"type": "Group", "id": "https://remote.test/c/films"},
            {"type": "Person", "id": "https://remote.test/users/zoe"},
        ]
    )

    assert parse_note(doc).attributed_to == "https://remote.test/users/zoe"


def test_parse_note__content_map_only() -> None:
    doc = _note(content=None, contentMap={"ja": "<p>こんにちは</p>", "en": "<p>hello</p>"})

    note = parse_note(doc)

    assert (note.content_html, note.language) == ("<p>こんにちは</p>", "ja")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://remote.test/@zoe/1", "https://remote.test/@zoe/1", id="string"),
        pytest.param(
            {"type": "Link", "href": "https://remote.test/@zoe/1"},
            "https://remote.test/@zoe/1",
            id="link",
        ),
        pytest.param(
            [
                {
                    "type": "Link",
                    "mediaType": "application/x-mpegURL",
                    "href": "https://r.test/m3u8",
                },
                {"type": "Link", "mediaType": "text/html", "href": "https://r.test/w/1"},
            ],
            "https://r.test/w/1",
            id="list-prefers-html",
        ),
        pytest.param("ftp://remote.test/x", "https://remote.test/notes/1", id="not-http"),
        pytest.param(None, "https://remote.test/notes/1", id="missing"),
    ],
)
def test_parse_note__url_forms(url: Any, expected: str) -> None:
    assert parse_note(_note(url=url)).url == expected


def test_parse_note__summary_is_plain_text() -> None:
    doc = _note(
        summary="<p>Spoilers &amp; <b>news</b></p><script>alert(1)</script>", sensitive=True
    )

    note = parse_note(doc)

    assert (note.summary, note.sensitive) == ("Spoilers & news", True)


def test_parse_note__in_reply_to_non_http_is_dropped() -> None:
    note = parse_note(
        _note(inReplyTo="tag:mastodon.example,2017-04-01:objectId=1:objectType=Status")
    )

    assert note.in_reply_to is None


def test_parse_note__mentions_deduplicated_name_optional() -> None:
    tags = [
        {"type": "Mention", "href": BOB},
        {"type": "Mention", "href": BOB, "name": "@bob"},
        {"type": "Mention", "href": "mailto:x@y.test", "name": "@x"},
    ]

    assert parse_note(_note(tag=tags)).mentions == (Mention(href=BOB, name=""),)


def test_parse_note__emoji_with_unsafe_shortcode_is_skipped() -> None:
    icon = {"type": "Image", "url": "https://remote.test/e.png"}
    tags = [
        {"type": "Emoji", "name": ':x" onload="alert(1):', "icon": icon},
        {"type": "Emoji", "name": ":ok_1:", "icon": icon},
        {"type": "Emoji", "name": ":noicon:"},
    ]

    assert parse_note(_note(tag=tags)).emojis == (
        CustomEmoji(shortcode="ok_1", icon_url="https://remote.test/e.png"),
    )


def test_parse_note__followers_url_decides_private() -> None:
    doc = _note(to=["https://remote.test/users/zoe/fans"], cc=[])

    assert parse_note(doc).visibility == "direct"
    assert (
        parse_note(doc, followers_url="https://remote.test/users/zoe/fans").visibility == "private"
    )


def test_parse_note__does_not_mutate_input() -> None:
    doc = _inner_object("misskey-create-note.json")
    before = copy.deepcopy(doc)

    parse_note(doc)

    assert doc == before


# --- visibility -------------------------------------------------------------------------------

FOLLOWERS = "https://remote.test/users/zoe/followers"


@pytest.mark.parametrize(
    ("to", "cc", "followers_url", "expected"),
    [
        pytest.param([AS_PUBLIC], [FOLLOWERS, BOB], None, "public", id="public"),
        pytest.param(["as:Public"], [], None, "public", id="public-as-prefix"),
        pytest.param(["Public"], [], None, "public", id="public-bare"),
        pytest.param([FOLLOWERS], [AS_PUBLIC, BOB], None, "unlisted", id="unlisted"),
        pytest.param([FOLLOWERS], [BOB], None, "private", id="private"),
        pytest.param([BOB], [FOLLOWERS], None, "private", id="private-followers-in-cc"),
        pytest.param(["https://r.test/fans"], [], "https://r.test/fans", "private", id="given"),
        pytest.param([BOB], [], None, "direct", id="direct"),
        pytest.param([], [], None, "direct", id="nobody"),
    ],
)
def test_note_visibility__table(
    to: list[str], cc: list[str], followers_url: str | None, expected: str
) -> None:
    assert note_visibility(to, cc, followers_url=followers_url) == expected


def test_parse_note__public_aliases_normalised() -> None:
    note = parse_note(_note(to=["as:Public"], cc=["Public"]))

    assert (note.to, note.cc, note.visibility) == ((AS_PUBLIC,), (AS_PUBLIC,), "public")


# --- hostile documents ------------------------------------------------------------------------


def test_parse_note__script_iframe_and_handlers_stripped() -> None:
    content = (
        "<p>ok<script>alert(1)</script><iframe src='https://evil.test'>x</iframe>"
        '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">click</a>'
        '<span onclick="alert(4)" class="h-card">s</span></p>'
    )

    html = parse_note(_note(content=content)).content_html

    assert html == '<p>okclick<span class="h-card">s</span></p>'  # the js: link unwrapped
    for needle in ("script", "iframe", "onerror", "onclick", "javascript", "alert", "<img"):
        assert needle not in html


def test_parse_note__title_markup_escaped() -> None:
    doc = _note(type="Page", name="<script>alert(1)</script>", url="javascript:alert(2)")

    html = parse_note(doc).content_html

    assert html == "<p><strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong></p><p>hi</p>"


def test_parse_note__ten_thousand_mentions_refused() -> None:
    tags = [
        {"type": "Mention", "href": f"https://r.test/u/{i}", "name": "@x"} for i in range(10_000)
    ]

    with pytest.raises(InvalidActivityError, match="too many tags"):
        parse_note(_note(tag=tags))


def test_parse_note__five_hundred_tags_accepted() -> None:
    tags = [{"type": "Hashtag", "name": f"#t{i}"} for i in range(500)]

    assert len(parse_note(_note(tag=tags)).hashtags) == 500


@pytest.mark.parametrize(
    "ident",
    [
        pytest.param("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", id="urn"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("/notes/1", id="relative"),
        pytest.param(None, id="missing"),
    ],
)
def test_parse_note__non_http_id_refused(ident: str | None) -> None:
    with pytest.raises(InvalidActivityError, match="id"):
        parse_note(_note(id=ident))


# `url` (the page) is optional: a long one falls back to the id (test_objects_optional_items).
@pytest.mark.parametrize("key", ["id", "attributedTo", "inReplyTo", "audience"])
def test_parse_note__url_over_2048_chars_refused(key: str) -> None:
    long_url = "https://remote.test/" + "a" * 2040

    with pytest.raises(InvalidActivityError, match="longer than 2048"):
        parse_note(_note(**{key: long_url}))


def test_parse_note__content_too_large_refused() -> None:
    with pytest.raises(InvalidActivityError, match="content too large"):
        parse_note(_note(content="a" * 100_001))


def test_parse_note__content_at_limit_accepted() -> None:
    assert len(parse_note(_note(content="a" * 100_000)).content_html) == 100_000


def test_parse_note__attachments_kept_to_limit() -> None:
    items = [
        {"type": "Document", "mediaType": "image/png", "url": f"https://r.test/{i}.png"}
        for i in range(MAX_ATTACHMENTS + 5)
    ]

    note = parse_note(_note(attachment=[{"type": "Document", "url": "ftp://x"}, *items]))

    assert len(note.attachments) == MAX_ATTACHMENTS
    assert note.attachments[0].url == "https://r.test/0.png"
    assert note.attachments_truncated is True


def test_parse_note__exactly_limit_attachments_not_truncated() -> None:
    items = [{"type": "Image", "url": f"https://r.test/{i}.png"} for i in range(MAX_ATTACHMENTS)]

    note = parse_note(_note(attachment=items))

    assert (len(note.attachments), note.attachments_truncated) == (MAX_ATTACHMENTS, False)


@pytest.mark.parametrize("kind", ["Video", "Event", "Person", None])
def test_parse_note__other_types_refused(kind: str | None) -> None:
    with pytest.raises(InvalidActivityError, match="not a note type"):
        parse_note(_note(type=kind))


def test_parse_note__missing_author_refused() -> None:
    doc = _note()
    del doc["attributedTo"]

    with pytest.raises(InvalidActivityError, match="attributedTo is missing"):
        parse_note(doc)


# --- purity -----------------------------------------------------------------------------------

PROBE = """
import sys
import kizuna.activitypub.activities, kizuna.activitypub.objects
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("aiohttp", "sqlalchemy"))))
"""


def test_objects_and_activities__do_not_import_io_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
