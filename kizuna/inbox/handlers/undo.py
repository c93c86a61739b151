"""Undo: handed to the family of what it undoes (each undoes only what the sender did)."""

from __future__ import annotations

from kizuna.activitypub.objects import Undo
from kizuna.federation.errors import IdentityMismatchError
from kizuna.inbox.context import Context
from kizuna.inbox.handlers import announce, block, follow, react


async def handle_undo(ctx: Context, undo: Undo) -> None:
    undone = undo.undone
    if undone.actor not in (ctx.actor.uri, None):
        # Each family also undoes only what `actor` did; this says so out loud.
        raise IdentityMismatchError(f"{ctx.actor.uri} cannot undo what {undone.actor} did")
    match undone.type:
        case "Follow":
            await follow.handle_undo(ctx, undone)
        case "Like" | "EmojiReact" if undone.id:
            await react.handle_undo(ctx, undo)
        case "Announce" if undone.id:
            await announce.handle_undo(ctx, undone)
        case "Block":
            await block.handle_undo(ctx, undone)
