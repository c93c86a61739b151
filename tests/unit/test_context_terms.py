"""Every document our builders make expands as JSON-LD: each key and type is defined by
its @context (tests/jsonld_terms.py). One sample per builder; a new `*_json` builder in
kizuna/activitypub/ without a sample here fails the guard below."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from kizuna.activitypub import activities, actors, collections, flags, groups, notes, reactions
from kizuna.activitypub.context import note_context, reaction_context
from kizuna.activitypub.reactions import Dialect, EmojiTag
from tests.jsonld_terms import undefined_terms
from tests.unit.test_actors import ALICE, INSTANCE
from tests.unit.test_notes import NOTE

BASE = "https://a.test"
GROUP = f"{BASE}/c/tokyo"
WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BLOB = EmojiTag(
    id=f"{BASE}/emoji/blob", shortcode="blob", url=f"{BASE}/m/b.png", media_type="image/png"
)
RICH_NOTE = dataclasses.replace(
    NOTE, summary="cw", sensitive=True, likes=2, emojis=(BLOB,), audience=GROUP
)
FOLLOW = activities.follow_json(id=f"{BASE}/f/1", actor=f"{BASE}/users/alice", object=GROUP)
REACTIONS = {
    dialect: reactions.reaction_json(
        dialect, id=f"{BASE}/r/{dialect}", actor=ALICE.id, object_id=NOTE.id, emoji="🎉"
    )
    for dialect in Dialect
}
CUSTOM = reactions.reaction_json(
    Dialect.MISSKEY, id=f"{BASE}/r/c", actor=ALICE.id, object_id=NOTE.id, emoji=":blob:", tag=BLOB
)
GROUP_ACTOR = dataclasses.replace(
    ALICE, id=GROUP, type="Group", moderators=f"{GROUP}/moderators", posting_restricted_to_mods=True
)


def _samples() -> dict[str, list[Any]]:
    create = notes.create_json(RICH_NOTE)
    update = activities.update_note_json(
        id=f"{NOTE.id}#updates/1", actor=NOTE.attributed_to, note=notes.note_json(RICH_NOTE)
    )
    embedded: list[dict[str, Any] | str] = [create, update, CUSTOM, *REACTIONS.values(), NOTE.id]
    return {
        "follow_json": [FOLLOW],
        "accept_json": [activities.accept_json(id=f"{GROUP}#a", actor=GROUP, follow=FOLLOW)],
        "reject_json": [activities.reject_json(id=f"{GROUP}#r", actor=GROUP, follow=FOLLOW)],
        "undo_json": [
            activities.undo_json(id=f"{doc['id']}/undo", actor=ALICE.id, object=doc)
            for doc in (FOLLOW, CUSTOM, *REACTIONS.values())
        ],
        "delete_note_json": [
            activities.delete_note_json(
                id=f"{NOTE.id}#delete", actor=ALICE.id, note_id=NOTE.id, to=[]
            )
        ],
        "update_note_json": [update],
        "announce_json": [
            activities.announce_json(
                id=f"{BASE}/b/1", actor=ALICE.id, object_id=NOTE.id, published=WHEN, to=[], cc=[]
            )
        ],
        "like_json": [activities.like_json(id=f"{BASE}/l/1", actor=ALICE.id, object_id=NOTE.id)],
        "block_json": [activities.block_json(id=f"{BASE}/k/1", actor=ALICE.id, object=GROUP)],
        "update_actor_json": [
            activities.update_actor_json(id=f"{ALICE.id}#u/1", actor_doc=actors.actor_json(actor))
            for actor in (ALICE, GROUP_ACTOR, INSTANCE)
        ],
        "delete_actor_json": [activities.delete_actor_json(id=f"{ALICE.id}#d", actor=ALICE.id)],
        "actor_json": [actors.actor_json(a) for a in (ALICE, GROUP_ACTOR, INSTANCE)],
        "collection_json": [
            collections.collection_json(id=f"{ALICE.id}/collections/tags", items=[])
        ],
        "ordered_collection_json": [
            collections.ordered_collection_json(
                id=f"{GROUP}/collections/featured",
                total_items=1,
                items=[notes.note_json(RICH_NOTE, with_context=False)],
                context=note_context(),
            ),
            collections.ordered_collection_json(
                id=f"{NOTE.id}/reactions",
                total_items=2,
                items=[{k: v for k, v in d.items() if k != "@context"} for d in REACTIONS.values()],
                context=reaction_context(),
            ),
        ],
        "ordered_collection_page_json": [
            collections.ordered_collection_page_json(
                id=f"{ALICE.outbox}?page=true", part_of=ALICE.outbox, items=[create]
            )
        ],
        "flag_json": [
            flags.flag_json(id=f"{BASE}/fl/1", actor=INSTANCE.id, content="spam", objects=[NOTE.id])
        ],
        "group_announce_json": [
            groups.group_announce_json(
                id=f"{GROUP}/activities/announce/{n}",
                group=GROUP,
                followers=f"{GROUP}/followers",
                object=doc,
            )
            for n, doc in enumerate(embedded)
        ],
        "moderator_delete_json": [
            groups.moderator_delete_json(
                id=f"{BASE}/md", moderator=ALICE.id, object_id=NOTE.id, group=GROUP, reason="x"
            )
        ],
        "moderator_block_json": [
            groups.moderator_block_json(
                id=f"{BASE}/mb", moderator=ALICE.id, object=NOTE.attributed_to, group=GROUP
            )
        ],
        "moderator_add_json": [
            groups.moderator_add_json(
                id=f"{BASE}/ma",
                kind="Add",
                moderator=ALICE.id,
                object_id=NOTE.id,
                target=f"{GROUP}/collections/featured",
                group=GROUP,
            )
        ],
        "note_json": [notes.note_json(RICH_NOTE)],
        "create_json": [create],
        "reaction_json": [CUSTOM, *REACTIONS.values()],
    }


# Fragments: embedded in a document above, never sent alone (their context is the host's).
FRAGMENTS = frozenset({"image_json", "emoji_tag_json"})
MODULES = (activities, actors, collections, flags, groups, notes, reactions)


def test_every_builder_has_a_sample() -> None:
    builders = {
        name
        for module in MODULES
        for name, fn in inspect.getmembers(importlib.import_module(module.__name__))
        if name.endswith("_json") and inspect.isfunction(fn) and fn.__module__ == module.__name__
    }
    assert builders - FRAGMENTS == set(_samples())


@pytest.mark.parametrize("builder", sorted(_samples()))
def test_every_term_of_every_built_document_expands(builder: str) -> None:
    for doc in _samples()[builder]:
        assert undefined_terms(doc) == [], (builder, doc.get("type"))


def test_the_checker_sees_a_missing_term() -> None:
    bare: Callable[[], dict[str, Any]] = lambda: {  # noqa: E731
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Note",
        "sensitive": True,
        "tag": [{"type": "Emoji", "name": ":x:"}],
        "contentMap": {"ja": "x"},
    }
    assert undefined_terms(bare()) == ["$.sensitive", "$.tag[0].type='Emoji'"]
