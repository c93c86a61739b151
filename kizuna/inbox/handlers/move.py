"""Move: an account moved to another; recorded only when the new one confirms it."""

from __future__ import annotations

from kizuna.activitypub.objects import Move
from kizuna.errors import KizunaError
from kizuna.inbox.context import Context


async def handle_move(ctx: Context, move: Move) -> None:
    """Recorded only when the new account names the old one in alsoKnownAs."""
    actor = ctx.actor
    if move.object != actor.uri:
        return
    new = await ctx.deps.notes.author(ctx.session, move.target)
    aliases = (new.raw or {}).get("alsoKnownAs") or []
    if actor.uri not in (aliases if isinstance(aliases, list) else [aliases]):
        raise KizunaError(f"{move.target} does not confirm the move from {actor.uri}")
    actor.moved_to_uri = new.uri
