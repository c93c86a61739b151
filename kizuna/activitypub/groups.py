"""Builders for what a community (Group) and its moderators send, in Lemmy's shapes (pure).

FEP-1b12: the group wraps every activity it accepts in an `Announce` to its followers, the
original activity embedded whole. Moderation follows Lemmy (reference/federation.md §9):
removal = `Delete` by the moderator with `summary` as reason, ban = `Block` with `target` =
the community, pin = `Add`/`Remove` with `target` = the featured collection; all carry
`audience` and are announced by the group.
"""

from __future__ import annotations

import copy

from kizuna.activitypub.context import AS_CONTEXT, merge_contexts
from kizuna.activitypub.vocab import AS_PUBLIC, JsonObject

__all__ = [
    "group_announce_json",
    "moderator_add_json",
    "moderator_block_json",
    "moderator_delete_json",
]

_OUTER_ONLY = ("@context", "signature")


def group_announce_json(
    *, id: str, group: str, followers: str, object: JsonObject | str
) -> JsonObject:
    """Announce by the group; `object` is the embedded activity (or a bare object id, for
    Mastodon, which does not understand Announce(Create)). The embedded activity's context
    moves to the Announce, so its terms (`sensitive`, `emojiReactions`, …) still expand."""
    embedded: JsonObject | str = (
        object
        if isinstance(object, str)
        else {k: copy.deepcopy(v) for k, v in object.items() if k not in _OUTER_ONLY}
    )
    return {
        "@context": AS_CONTEXT
        if isinstance(object, str)
        else merge_contexts(AS_CONTEXT, object.get("@context")),
        "id": id,
        "type": "Announce",
        "actor": group,
        "to": [AS_PUBLIC],
        "cc": [followers],
        "audience": group,
        "object": embedded,
    }


def moderator_delete_json(
    *, id: str, moderator: str, object_id: str, group: str, reason: str = ""
) -> JsonObject:
    doc: JsonObject = {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Delete",
        "actor": moderator,
        "to": [AS_PUBLIC],
        "cc": [group],
        "audience": group,
        "object": object_id,
    }
    if reason:
        doc["summary"] = reason
    return doc


def moderator_block_json(
    *, id: str, moderator: str, object: str, group: str, reason: str = ""
) -> JsonObject:
    doc: JsonObject = {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Block",
        "actor": moderator,
        "to": [AS_PUBLIC],
        "cc": [group],
        "audience": group,
        "object": object,
        "target": group,
    }
    if reason:
        doc["summary"] = reason
    return doc


def moderator_add_json(
    *, id: str, kind: str, moderator: str, object_id: str, target: str, group: str
) -> JsonObject:
    """`Add` (pin) or `Remove` (unpin) of a post in the group's featured collection."""
    if kind not in ("Add", "Remove"):
        raise ValueError(f"moderator_add_json: {kind!r} is neither Add nor Remove")
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": kind,
        "actor": moderator,
        "to": [AS_PUBLIC],
        "cc": [group],
        "audience": group,
        "object": object_id,
        "target": target,
    }
