"""Builders for the activities we send, in Mastodon's shapes.

Pure: ids and times are parameters (no clock, no uuid); inputs are never mutated, and
embedded documents are deep copies, so editing a result cannot reach the caller's data.

Shapes follow Mastodon's serializers in app/serializers/activitypub/: follow_serializer.rb,
accept_follow_serializer.rb, reject_follow_serializer.rb, undo_*_serializer.rb,
delete_note_serializer.rb, update_note_serializer.rb, announce_note_serializer.rb,
like_serializer.rb, block_serializer.rb, update_actor_serializer.rb,
delete_actor_serializer.rb. Mastodon's id patterns (`…#accepts/follows/1`, `…#likes/1`,
`…/statuses/1#delete`, `…#updates/<epoch>`) are made in kizuna/activitypub/ids.py; see
reference/federation.md §6.

Builder misuse (an embedded document without the fields the shape needs) raises ValueError:
it is our bug, not a peer's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from kizuna.activitypub.context import AS_CONTEXT, actor_context, merge_contexts, note_context
from kizuna.activitypub.vocab import AS_PUBLIC, JsonObject, as_list, get_id, isoformat_z

__all__ = [
    "DELETE_CONTEXT",
    "accept_json",
    "announce_json",
    "block_json",
    "delete_actor_json",
    "delete_note_json",
    "follow_json",
    "like_json",
    "reject_json",
    "undo_json",
    "update_actor_json",
    "update_note_json",
]

# delete_note_serializer.rb's Tombstone asks for the `atom_uri` context extension.
DELETE_CONTEXT: Final[list[Any]] = [
    AS_CONTEXT,
    {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri"},
]

# Keys of a document that never belong to an embedded copy: the context lives on the outer
# activity (merged into its own, so embedded terms still expand), and an LD signature
# covers the document it was made for, not the wrapper.
_OUTER_ONLY: Final = ("@context", "signature")


def follow_json(*, id: str, actor: str, object: str) -> JsonObject:
    return {"@context": AS_CONTEXT, "id": id, "type": "Follow", "actor": actor, "object": object}


def accept_json(*, id: str, actor: str, follow: JsonObject) -> JsonObject:
    """Accept(Follow); `follow` is embedded as Mastodon does, reduced to id/type/actor/object."""
    return _response("Accept", id=id, actor=actor, follow=follow)


def reject_json(*, id: str, actor: str, follow: JsonObject) -> JsonObject:
    """Reject(Follow): a refused request, or a follower removed; the Follow embedded."""
    return _response("Reject", id=id, actor=actor, follow=follow)


def undo_json(
    *, id: str, actor: str, object: JsonObject, to: Sequence[str] | None = None
) -> JsonObject:
    """Undo with `object` (our Follow, Like, Announce, Block…) embedded whole.

    `to` defaults to [Public] for an Announce (undo_announce_serializer.rb) and is left out
    otherwise (undo_follow/undo_like/undo_block have none); pass it to override.
    """
    if not isinstance(object.get("id"), str) or not object.get("type"):
        raise ValueError("undo_json: the undone activity needs an id and a type")
    doc: JsonObject = {
        "@context": merge_contexts(AS_CONTEXT, object.get("@context")),
        "id": id,
        "type": "Undo",
        "actor": actor,
    }
    if to is None and object.get("type") == "Announce":
        to = [AS_PUBLIC]
    if to is not None:
        doc["to"] = list(to)
    doc["object"] = _embedded(object)
    return doc


def delete_note_json(
    *, id: str, actor: str, note_id: str, to: Sequence[str], cc: Sequence[str] = ()
) -> JsonObject:
    """Delete of a note, its object a Tombstone. Mastodon always sends `to: [Public]` and no
    `cc`; pass the note's addressing to reach mentioned/followers-only audiences too. `cc`
    is written only when not empty, so the Mastodon call yields Mastodon's exact shape."""
    doc: JsonObject = {
        "@context": copy.deepcopy(DELETE_CONTEXT),
        "id": id,
        "type": "Delete",
        "actor": actor,
        "to": list(to),
    }
    if cc:
        doc["cc"] = list(cc)
    doc["object"] = {"id": note_id, "type": "Tombstone", "atomUri": note_id}
    return doc


def update_note_json(
    *, id: str, actor: str, note: JsonObject, published: datetime | None = None
) -> JsonObject:
    """Update(Note) for an edit: the whole new note embedded, addressed like it.

    `published` is the edit time (update_note_serializer.rb); without it the note's own
    `updated` is used, and with neither the key is left out.
    """
    if not isinstance(note.get("id"), str):
        raise ValueError("update_note_json: the note needs an id")
    doc: JsonObject = {
        "@context": merge_contexts(note_context(), note.get("@context")),
        "id": id,
        "type": "Update",
        "actor": actor,
    }
    if published is not None:
        doc["published"] = isoformat_z(published)
    elif isinstance(note.get("updated"), str):
        doc["published"] = note["updated"]
    doc["to"] = as_list(copy.deepcopy(note.get("to")))
    doc["cc"] = as_list(copy.deepcopy(note.get("cc")))
    doc["object"] = _embedded(note)
    return doc


def announce_json(
    *,
    id: str,
    actor: str,
    object_id: str,
    published: datetime,
    to: Sequence[str],
    cc: Sequence[str],
) -> JsonObject:
    """Announce (boost); the object is the note's URI, never embedded (a receiver must fetch
    it from its origin anyway)."""
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Announce",
        "actor": actor,
        "published": isoformat_z(published),
        "to": list(to),
        "cc": list(cc),
        "object": object_id,
    }


def like_json(*, id: str, actor: str, object_id: str) -> JsonObject:
    """A plain favourite, as Mastodon sends it (no content)."""
    return {"@context": AS_CONTEXT, "id": id, "type": "Like", "actor": actor, "object": object_id}


def block_json(*, id: str, actor: str, object: str) -> JsonObject:
    return {"@context": AS_CONTEXT, "id": id, "type": "Block", "actor": actor, "object": object}


def update_actor_json(*, id: str, actor_doc: JsonObject) -> JsonObject:
    """Update(Person) after a profile change: the actor document embedded, `to: [Public]`,
    the outer context the actor context (update_actor_serializer.rb)."""
    actor = actor_doc.get("id")
    if not isinstance(actor, str) or not actor:
        raise ValueError("update_actor_json: the actor document needs an id")
    return {
        "@context": merge_contexts(actor_context(), actor_doc.get("@context")),
        "id": id,
        "type": "Update",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": _embedded(actor_doc),
    }


def delete_actor_json(*, id: str, actor: str) -> JsonObject:
    """Delete of our own actor: `object` is the actor itself (delete_actor_serializer.rb)."""
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Delete",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": actor,
    }


def _response(kind: str, *, id: str, actor: str, follow: JsonObject) -> JsonObject:
    follow_id, follower, followed = (
        follow.get("id"),
        get_id(follow.get("actor")),
        get_id(follow.get("object")),
    )
    if not isinstance(follow_id, str) or not follow_id or follower is None or followed is None:
        raise ValueError(f"{kind.lower()}_json: the Follow needs an id, an actor and an object")
    # Mastodon re-serializes the Follow from its own record (follow_serializer.rb), so the
    # embedded copy holds exactly these four keys whatever the original carried.
    embedded = {"id": follow_id, "type": "Follow", "actor": follower, "object": followed}
    return {"@context": AS_CONTEXT, "id": id, "type": kind, "actor": actor, "object": embedded}


def _embedded(doc: JsonObject) -> JsonObject:
    return {key: copy.deepcopy(value) for key, value in doc.items() if key not in _OUTER_ONLY}
