"""Unit tests for kizuna.activitypub.activities: every builder against Mastodon's shape (dict
literals), input left untouched, and a round trip through kizuna.activitypub.objects."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kizuna.activitypub.activities import (
    DELETE_CONTEXT,
    accept_json,
    announce_json,
    block_json,
    delete_actor_json,
    delete_note_json,
    follow_json,
    like_json,
    reject_json,
    undo_json,
    update_actor_json,
    update_note_json,
)
from kizuna.activitypub.context import ACTOR_CONTEXT, AS_CONTEXT, NOTE_CONTEXT
from kizuna.activitypub.objects import (
    Announce,
    Block,
    Delete,
    Follow,
    RemoteNote,
    Response,
    Undo,
    Undone,
    Update,
    parse_activity,
)
from kizuna.activitypub.vocab import AS_PUBLIC
from tests.unit.datafiles import peer_payload

ALICE = "https://kizuna.test/users/alice"
ALICE_FOLLOWERS = f"{ALICE}/followers"
BOB = "https://mastodon.example/users/bob"
NOTE_ID = f"{ALICE}/statuses/1"
WHEN = datetime(2025, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)

OUR_FOLLOW = {
    "@context": AS_CONTEXT,
    "id": "https://kizuna.test/follows/1",
    "type": "Follow",
    "actor": ALICE,
    "object": BOB,
}


def test_follow_json__mastodon_shape() -> None:
    assert follow_json(id="https://kizuna.test/follows/1", actor=ALICE, object=BOB) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://kizuna.test/follows/1",
        "type": "Follow",
        "actor": ALICE,
        "object": BOB,
    }


def test_accept_json__embeds_follow_like_mastodon() -> None:
    follow = peer_payload("mastodon-follow.json")  # Mastodon's Follow to us, with @context
    accept = accept_json(
        id="https://kizuna.example/users/bob#accepts/follows/1",
        actor="https://kizuna.example/users/bob",
        follow=follow,
    )

    assert accept == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://kizuna.example/users/bob#accepts/follows/1",
        "type": "Accept",
        "actor": "https://kizuna.example/users/bob",
        "object": {
            "id": "https://mastodon.example/2f6c1b8e-5d3a-4c1e-9a77-0b9b1d3c4e5f",
            "type": "Follow",
            "actor": "https://mastodon.example/users/alice",
            "object": "https://kizuna.example/users/bob",
        },
    }


def test_accept_json__same_shape_as_mastodon_accept_fixture() -> None:
    peer = peer_payload("mastodon-accept-follow.json")

    ours = accept_json(id=peer["id"], actor=peer["actor"], follow=peer["object"])

    assert ours == peer


def test_accept_json__reduces_follow_to_four_keys() -> None:
    follow = {**OUR_FOLLOW, "signature": {"type": "RsaSignature2017"}, "to": [BOB]}

    accept = accept_json(id=f"{BOB}#accepts/follows/9", actor=BOB, follow=follow)

    assert accept["object"] == {
        "id": "https://kizuna.test/follows/1",
        "type": "Follow",
        "actor": ALICE,
        "object": BOB,
    }


def test_accept_json__follow_with_embedded_actor_uses_ids() -> None:
    follow = {**OUR_FOLLOW, "actor": {"id": ALICE, "type": "Person"}, "object": [BOB]}

    accept = accept_json(id=f"{BOB}#accepts/follows/9", actor=BOB, follow=follow)

    assert accept["object"]["actor"] == ALICE
    assert accept["object"]["object"] == BOB


def test_reject_json__mastodon_shape() -> None:
    assert reject_json(id=f"{BOB}#rejects/follows/9", actor=BOB, follow=OUR_FOLLOW) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{BOB}#rejects/follows/9",
        "type": "Reject",
        "actor": BOB,
        "object": {
            "id": "https://kizuna.test/follows/1",
            "type": "Follow",
            "actor": ALICE,
            "object": BOB,
        },
    }


@pytest.mark.parametrize("missing", ["id", "actor", "object"])
def test_accept_json__follow_without_field_raises(missing: str) -> None:
    follow = {k: v for k, v in OUR_FOLLOW.items() if k != missing}

    with pytest.raises(ValueError, match="Follow needs"):
        accept_json(id="https://x.test/1", actor=BOB, follow=follow)


def test_undo_json__follow_embedded_without_context() -> None:
    assert undo_json(id=f"{ALICE}#follows/1/undo", actor=ALICE, object=OUR_FOLLOW) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ALICE}#follows/1/undo",
        "type": "Undo",
        "actor": ALICE,
        "object": {
            "id": "https://kizuna.test/follows/1",
            "type": "Follow",
            "actor": ALICE,
            "object": BOB,
        },
    }


def test_undo_json__same_shape_as_mastodon_undo_fixture() -> None:
    peer = peer_payload("mastodon-undo-follow.json")

    assert undo_json(id=peer["id"], actor=peer["actor"], object=peer["object"]) == peer


def test_undo_json__announce_addressed_public() -> None:
    announce = announce_json(
        id=f"{NOTE_ID}/activity",
        actor=ALICE,
        object_id="https://mastodon.example/users/bob/statuses/9",
        published=WHEN,
        to=[AS_PUBLIC],
        cc=[BOB, ALICE_FOLLOWERS],
    )

    undo = undo_json(id=f"{ALICE}#announces/1/undo", actor=ALICE, object=announce)

    assert undo == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ALICE}#announces/1/undo",
        "type": "Undo",
        "actor": ALICE,
        "to": [AS_PUBLIC],
        "object": {
            "id": f"{NOTE_ID}/activity",
            "type": "Announce",
            "actor": ALICE,
            "published": "2025-06-01T12:00:00Z",
            "to": [AS_PUBLIC],
            "cc": [BOB, ALICE_FOLLOWERS],
            "object": "https://mastodon.example/users/bob/statuses/9",
        },
    }


def test_undo_json__explicit_to_wins() -> None:
    undo = undo_json(id="https://kizuna.test/u/1", actor=ALICE, object=OUR_FOLLOW, to=[BOB])

    assert undo["to"] == [BOB]


def test_undo_json__object_without_id_raises() -> None:
    with pytest.raises(ValueError, match="id and a type"):
        undo_json(id="https://kizuna.test/u/1", actor=ALICE, object={"type": "Like"})


def test_delete_note_json__mastodon_shape() -> None:
    delete = delete_note_json(id=f"{NOTE_ID}#delete", actor=ALICE, note_id=NOTE_ID, to=[AS_PUBLIC])

    assert delete == {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri"},
        ],
        "id": f"{NOTE_ID}#delete",
        "type": "Delete",
        "actor": ALICE,
        "to": [AS_PUBLIC],
        "object": {"id": NOTE_ID, "type": "Tombstone", "atomUri": NOTE_ID},
    }


def test_delete_note_json__same_shape_as_mastodon_fixture() -> None:
    peer = peer_payload("mastodon-delete-tombstone.json")

    ours = delete_note_json(
        id=peer["id"], actor=peer["actor"], note_id=peer["object"]["id"], to=peer["to"]
    )

    assert ours == peer


def test_delete_note_json__cc_written_when_given() -> None:
    delete = delete_note_json(
        id=f"{NOTE_ID}#delete", actor=ALICE, note_id=NOTE_ID, to=[ALICE_FOLLOWERS], cc=[BOB]
    )

    assert (delete["to"], delete["cc"]) == ([ALICE_FOLLOWERS], [BOB])


def test_delete_note_json__context_is_a_fresh_copy() -> None:
    delete = delete_note_json(id=f"{NOTE_ID}#delete", actor=ALICE, note_id=NOTE_ID, to=[])
    delete["@context"][1]["x"] = "y"

    assert "x" not in DELETE_CONTEXT[1]


NOTE = {
    "@context": NOTE_CONTEXT,
    "id": NOTE_ID,
    "type": "Note",
    "content": "<p>edited</p>",
    "attributedTo": ALICE,
    "to": [AS_PUBLIC],
    "cc": [ALICE_FOLLOWERS, BOB],
    "updated": "2025-06-01T13:00:00Z",
}


def test_update_note_json__mastodon_shape() -> None:
    update = update_note_json(
        id=f"{NOTE_ID}#updates/1748782800",
        actor=ALICE,
        note=NOTE,
        published=datetime(2025, 6, 1, 22, 0, tzinfo=timezone(timedelta(hours=9))),
    )

    assert update == {
        "@context": NOTE_CONTEXT,
        "id": f"{NOTE_ID}#updates/1748782800",
        "type": "Update",
        "actor": ALICE,
        "published": "2025-06-01T13:00:00Z",
        "to": [AS_PUBLIC],
        "cc": [ALICE_FOLLOWERS, BOB],
        "object": {k: v for k, v in NOTE.items() if k != "@context"},
    }


def test_update_note_json__published_defaults_to_note_updated() -> None:
    update = update_note_json(id=f"{NOTE_ID}#updates/1", actor=ALICE, note=NOTE)

    assert update["published"] == "2025-06-01T13:00:00Z"


def test_update_note_json__without_times_has_no_published() -> None:
    note = {k: v for k, v in NOTE.items() if k != "updated"}

    assert "published" not in update_note_json(id=f"{NOTE_ID}#u/1", actor=ALICE, note=note)


def test_update_note_json__does_not_share_structure_with_input() -> None:
    note = copy.deepcopy(NOTE)
    update = update_note_json(id=f"{NOTE_ID}#updates/1", actor=ALICE, note=note)

    update["object"]["cc"].append("https://evil.test/x")
    update["to"].append("https://evil.test/y")
    update["@context"][1]["x"] = "y"

    assert note == NOTE
    assert "x" not in NOTE_CONTEXT[1]


def test_update_note_json__note_without_id_raises() -> None:
    with pytest.raises(ValueError, match="needs an id"):
        update_note_json(id="https://kizuna.test/u/1", actor=ALICE, note={"type": "Note"})


def test_announce_json__mastodon_shape() -> None:
    announce = announce_json(
        id=f"{ALICE}/statuses/2/activity",
        actor=ALICE,
        object_id="https://mastodon.example/users/bob/statuses/9",
        published=WHEN,
        to=(AS_PUBLIC,),
        cc=(BOB, ALICE_FOLLOWERS),
    )

    assert announce == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ALICE}/statuses/2/activity",
        "type": "Announce",
        "actor": ALICE,
        "published": "2025-06-01T12:00:00Z",
        "to": [AS_PUBLIC],
        "cc": [BOB, ALICE_FOLLOWERS],
        "object": "https://mastodon.example/users/bob/statuses/9",
    }


def test_announce_json__naive_datetime_raises() -> None:
    with pytest.raises(ValueError, match="naive"):
        announce_json(
            id="https://kizuna.test/a/1",
            actor=ALICE,
            object_id=NOTE_ID,
            published=datetime(2025, 6, 1),  # naive on purpose
            to=[],
            cc=[],
        )


def test_like_json__same_shape_as_mastodon_fixture() -> None:
    peer = peer_payload("mastodon-like.json")

    assert like_json(id=peer["id"], actor=peer["actor"], object_id=peer["object"]) == peer


def test_block_json__mastodon_shape() -> None:
    assert block_json(id="https://kizuna.test/blocks/1", actor=ALICE, object=BOB) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://kizuna.test/blocks/1",
        "type": "Block",
        "actor": ALICE,
        "object": BOB,
    }


def test_update_actor_json__mastodon_shape() -> None:
    actor_doc = peer_payload("mastodon-actor.json")
    original = copy.deepcopy(actor_doc)

    update = update_actor_json(
        id="https://mastodon.example/users/alice#updates/1748779200", actor_doc=actor_doc
    )

    assert update == {
        "@context": ACTOR_CONTEXT,
        "id": "https://mastodon.example/users/alice#updates/1748779200",
        "type": "Update",
        "actor": "https://mastodon.example/users/alice",
        "to": [AS_PUBLIC],
        "object": {k: v for k, v in original.items() if k != "@context"},
    }
    assert actor_doc == original


def test_update_actor_json__actor_without_id_raises() -> None:
    with pytest.raises(ValueError, match="needs an id"):
        update_actor_json(id="https://kizuna.test/u/1", actor_doc={"type": "Person"})


def test_delete_actor_json__mastodon_shape() -> None:
    assert delete_actor_json(id=f"{ALICE}#delete", actor=ALICE) == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ALICE}#delete",
        "type": "Delete",
        "actor": ALICE,
        "to": [AS_PUBLIC],
        "object": ALICE,
    }


# --- round trip through the parsers -------------------------------------------------------------


def test_follow_json__then_parse_activity() -> None:
    doc = follow_json(id="https://kizuna.test/follows/1", actor=ALICE, object=BOB)

    assert parse_activity(doc) == Follow(
        id="https://kizuna.test/follows/1", actor=ALICE, object=BOB, as_received=doc
    )


def test_accept_json__then_parse_activity() -> None:
    doc = accept_json(id=f"{BOB}#accepts/follows/1", actor=BOB, follow=OUR_FOLLOW)

    assert parse_activity(doc) == Response(
        id=f"{BOB}#accepts/follows/1",
        actor=BOB,
        kind="Accept",
        follow_id="https://kizuna.test/follows/1",
        follow_actor=ALICE,
        follow_object=BOB,
    )


def test_undo_json__like_then_parse_activity() -> None:
    like = like_json(id=f"{ALICE}#likes/1", actor=ALICE, object_id=NOTE_ID)
    doc = undo_json(id=f"{ALICE}#likes/1/undo", actor=ALICE, object=like)

    parsed = parse_activity(doc)

    assert isinstance(parsed, Undo)
    assert parsed.undone == Undone(type="Like", id=f"{ALICE}#likes/1", actor=ALICE, object=NOTE_ID)


def test_delete_json__then_parse_activity() -> None:
    note = parse_activity(
        delete_note_json(id=f"{NOTE_ID}#delete", actor=ALICE, note_id=NOTE_ID, to=[AS_PUBLIC])
    )
    account = parse_activity(delete_actor_json(id=f"{ALICE}#delete", actor=ALICE))

    assert isinstance(note, Delete)
    assert (note.object_id, note.is_actor_deletion) == (NOTE_ID, False)
    assert isinstance(account, Delete)
    assert account.is_actor_deletion


def test_announce_json__then_parse_activity() -> None:
    doc = announce_json(
        id=f"{NOTE_ID}/activity", actor=ALICE, object_id=BOB, published=WHEN, to=[AS_PUBLIC], cc=[]
    )

    assert parse_activity(doc) == Announce(
        id=f"{NOTE_ID}/activity",
        actor=ALICE,
        object_id=BOB,
        published="2025-06-01T12:00:00Z",
        to=(AS_PUBLIC,),
        cc=(),
    )


def test_block_and_update_json__then_parse_activity() -> None:
    block = parse_activity(block_json(id="https://kizuna.test/blocks/1", actor=ALICE, object=BOB))
    update = parse_activity(update_note_json(id=f"{NOTE_ID}#updates/1", actor=ALICE, note=NOTE))

    assert block == Block(id="https://kizuna.test/blocks/1", actor=ALICE, object=BOB)
    assert isinstance(update, Update)
    assert update.object_id == NOTE_ID
    assert isinstance(update.object, RemoteNote)
    assert update.object.id == NOTE_ID
