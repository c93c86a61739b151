"""Follow, its Accept/Reject, and Undo(Follow)."""

from __future__ import annotations

from kizuna.activitypub.objects import Follow, Response, Undone
from kizuna.inbox.context import Context
from kizuna.storage import blocks, communities, repo
from kizuna.storage.models import Follow as FollowRow
from kizuna.storage.states import FollowState


async def handle_follow(ctx: Context, follow: Follow) -> None:
    session, actor, outbox = ctx.session, ctx.actor, ctx.deps.outbox
    target = await repo.get_account_by_uri(session, follow.object)
    if target is None or not target.is_local or target.is_instance_actor:
        return  # not one of ours: nothing to accept
    if await communities.get_ban(session, target.id, actor.id) is not None:
        await outbox.send_accept(session, target, actor, follow.as_received, accept=False)
        return  # banned from this community: no membership, not even pending
    if await blocks.get_block(session, target.id, actor.id) is not None or (
        await blocks.has_domain_block(session, target.id, actor.domain)
    ):
        # Mastodon's ActivityPub::Activity::Follow rejects what the target blocks.
        await outbox.send_accept(session, target, actor, follow.as_received, accept=False)
        return
    existing = await repo.get_follow(session, actor.id, target.id)
    if existing is None:
        # From a limited account or server, every follow waits for approval (Mastodon).
        limited = actor.silenced_at is not None or (await ctx.deps.decide(actor.domain)).silenced
        existing = await repo.add_follow(
            session,
            FollowRow(
                account_id=actor.id,
                target_account_id=target.id,
                state=FollowState.PENDING if target.locked or limited else FollowState.ACCEPTED,
                uri=follow.id,
                created_at=ctx.now(),
            ),
        )
        await ctx.deps.surface.followed(session, existing, target, now=ctx.now())
    else:
        existing.uri = follow.id
    if existing.state == FollowState.ACCEPTED:
        # Also on a repeated Follow: the first Accept may have been lost (Mastodon resends).
        await outbox.send_accept(session, target, actor, follow.as_received)


async def handle_response(ctx: Context, response: Response) -> None:
    session, actor = ctx.session, ctx.actor
    follow = await repo.get_follow_by_uri(session, response.follow_id or "")
    if follow is None and response.follow_actor:
        local = await repo.get_account_by_uri(session, response.follow_actor)
        if local is not None:
            follow = await repo.get_follow(session, local.id, actor.id)
    if follow is None or follow.target_account_id != actor.id:
        return  # not a follow of ours towards this actor
    if response.kind == "Accept":
        follow.state = FollowState.ACCEPTED
    else:
        await session.delete(follow)


async def handle_undo(ctx: Context, undone: Undone) -> None:
    session, actor = ctx.session, ctx.actor
    follow = await repo.get_follow_by_uri(session, undone.id or "")
    if follow is None:
        target = await repo.get_account_by_uri(session, undone.object or "")
        if target is not None:
            follow = await repo.get_follow(session, actor.id, target.id)
    if follow is not None and follow.account_id == actor.id:
        await session.delete(follow)
