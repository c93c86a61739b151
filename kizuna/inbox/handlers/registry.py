"""Which handler acts on which activity type: each type's parser (the typed parse in
kizuna.activitypub) and its handler, and the one dispatch over them.

Every type the inbox accepts (kizuna.inbox.service.ACTIVITY_TYPES) is either routed here
or in ACKNOWLEDGED_ONLY: accepted and dropped, never an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from kizuna.activitypub.flags import parse_flag
from kizuna.activitypub.objects import (
    Unknown,
    activity_type,
    parse_announce,
    parse_block,
    parse_create,
    parse_delete,
    parse_follow,
    parse_like,
    parse_move,
    parse_response,
    parse_undo,
    parse_update,
)
from kizuna.activitypub.vocab import JsonObject
from kizuna.inbox.context import Context
from kizuna.inbox.handlers import (
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    move,
    react,
    undo,
    update,
)

A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class Route(Generic[A]):
    parse: Callable[[JsonObject], A | Unknown]  # raises InvalidActivityError
    handle: Callable[[Context, A], Awaitable[None]]

    async def run(self, ctx: Context, doc: JsonObject) -> bool:
        activity = self.parse(doc)
        if isinstance(activity, Unknown):
            return False  # a type we route, in a form we do not act on (Accept(Invite), …)
        await self.handle(ctx, activity)
        return True


ROUTES: Final[Mapping[str, Route[Any]]] = {
    "Follow": Route(parse_follow, follow.handle_follow),
    "Accept": Route(parse_response, follow.handle_response),
    "Reject": Route(parse_response, follow.handle_response),
    "Undo": Route(parse_undo, undo.handle_undo),
    "Create": Route(parse_create, create.handle_create),
    "Update": Route(parse_update, update.handle_update),
    "Delete": Route(parse_delete, delete.handle_delete),
    "Announce": Route(parse_announce, announce.handle_announce),
    "Like": Route(parse_like, react.handle_reaction),
    "EmojiReact": Route(parse_like, react.handle_reaction),
    "Block": Route(parse_block, block.handle_block),
    "Move": Route(parse_move, move.handle_move),
    "Flag": Route(parse_flag, flag.handle_flag),
}

# Accepted and dropped. Add/Remove mean something only inside a community's Announce
# (kizuna.inbox.community), where they are parsed with it.
ACKNOWLEDGED_ONLY: Final = frozenset(
    {
        "Add",
        "Arrive",
        "Dislike",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Listen",
        "Offer",
        "Question",
        "Read",
        "Remove",
        "TentativeAccept",
        "TentativeReject",
        "Travel",
        "View",
    }
)


async def dispatch(ctx: Context, doc: JsonObject) -> bool:
    """Parse `doc` by its type and hand it to its handler; False when nothing acts on it."""
    kind = activity_type(doc)
    route = ROUTES.get(kind) if kind is not None else None
    return route is not None and await route.run(ctx, doc)
