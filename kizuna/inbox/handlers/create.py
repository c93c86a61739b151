"""Create: a new remote post (checked against its origin), in a community when it names one."""

from __future__ import annotations

from kizuna.activitypub.objects import Create
from kizuna.inbox import community
from kizuna.inbox.context import Context
from kizuna.storage import repo


async def handle_create(ctx: Context, create: Create) -> None:
    session, notes = ctx.session, ctx.deps.notes
    note, author = await notes.trusted(session, ctx.actor, create.note, create.object_id)
    group = await community.community_of(session, author, note)
    post = await notes.store(session, note, author)
    if post is not None:
        await community.created(ctx, post, group, create.as_received)
        parent = await repo.get_post(session, post.in_reply_to_id) if post.in_reply_to_id else None
        mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
        await ctx.deps.surface.posted(
            session, post, parent=parent, mentioned=mentioned, now=ctx.now()
        )
