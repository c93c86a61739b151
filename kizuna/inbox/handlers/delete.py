"""Delete: one of the sender's posts, or the sender's account itself."""

from __future__ import annotations

from kizuna.activitypub.objects import Delete
from kizuna.inbox import community
from kizuna.inbox.context import Context
from kizuna.storage import repo


async def handle_delete(ctx: Context, delete: Delete) -> None:
    session, actor = ctx.session, ctx.actor
    if delete.is_actor_deletion:
        # Its server deleted the account: drop its posts and follows, keep a marker row.
        await repo.delete_account_content(session, actor.id)
        actor.deleted_at = ctx.now()
        actor.display_name = ""
        actor.note_html = ""
        actor.fields = []
        return
    post = await repo.get_post_by_uri(session, delete.object_id)
    if post is not None and post.account_id == actor.id:
        await community.relay(ctx, post, delete.as_received)
        await repo.delete_post(session, post.id)
