"""Announce: a boost, or a remote community relaying what happened in it; Undo(Announce)."""

from __future__ import annotations

from kizuna.activitypub.objects import Announce, Undone
from kizuna.activitypub.vocab import PUBLIC_VISIBILITIES
from kizuna.inbox import community
from kizuna.inbox.context import Context
from kizuna.inbox.handlers import react
from kizuna.inbox.notes import parse_time
from kizuna.services.interactions import add_boost
from kizuna.storage import repo
from kizuna.storage.ids import new_id


async def handle_announce(ctx: Context, announce: Announce) -> None:
    session, actor, notes = ctx.session, ctx.actor, ctx.deps.notes
    if actor.is_group:
        await community.announced(ctx, announce, react.handle_reaction)
        return
    original = await repo.get_post_by_uri(session, announce.object_id)
    if original is None:
        # A boost of a post we never saw: fetch it from its origin, never from the booster.
        note, author = await notes.fetch(session, announce.object_id)
        original = await notes.store(session, note, author)
    if original is None or original.visibility not in PUBLIC_VISIBILITIES:
        return
    if await repo.get_post_by_uri(session, announce.id) is not None:
        return
    await add_boost(
        session,
        ctx.deps.surface,
        actor,
        original,
        id=new_id(),
        uri=announce.id,
        url=None,
        created_at=parse_time(announce.published, ctx.now()),
        now=ctx.now(),
    )


async def handle_undo(ctx: Context, undone: Undone) -> None:
    boost = await repo.get_post_by_uri(ctx.session, undone.id or "")
    if boost is not None and boost.account_id == ctx.actor.id and boost.reblog_of_id:
        await repo.delete_post(ctx.session, boost.id)
