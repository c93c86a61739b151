"""Block and Undo(Block) by a remote account of one of ours."""

from __future__ import annotations

from kizuna.activitypub.objects import Block, Undone
from kizuna.inbox.context import Context
from kizuna.storage import blocks, repo
from kizuna.storage.models import AccountBlock


async def handle_block(ctx: Context, block: Block) -> None:
    """Follows in both directions end (Mastodon), and the block is kept until its Undo
    (account_blocks, the remote blocker as account_id): our user no longer addresses it,
    and sees none of its posts."""
    session, actor = ctx.session, ctx.actor
    target = await repo.get_account_by_uri(session, block.object)
    if target is None or not target.is_local:
        return
    await repo.delete_follow(session, actor.id, target.id)
    await repo.delete_follow(session, target.id, actor.id)
    if block.target is None:  # with a target: a community ban, not this
        row = AccountBlock(
            account_id=actor.id,
            target_account_id=target.id,
            uri=block.id,
            created_at=ctx.now(),
        )
        await blocks.add_block(session, row)


async def handle_undo(ctx: Context, undone: Undone) -> None:
    session, actor = ctx.session, ctx.actor
    row = await blocks.get_block_by_uri(session, undone.id or "")
    if row is None:
        target = await repo.get_account_by_uri(session, undone.object or "")
        row = None if target is None else await blocks.get_block(session, actor.id, target.id)
    if row is not None and row.account_id == actor.id:
        await blocks.remove_block(session, actor.id, row.target_account_id)
