"""Update: the sender's profile, or an edit of one of the sender's posts."""

from __future__ import annotations

from kizuna.activitypub.actors import RemoteActor
from kizuna.activitypub.objects import RemoteNote, Update
from kizuna.inbox import community
from kizuna.inbox.context import Context
from kizuna.services.account_moderation import follow_remote_suspension
from kizuna.storage import repo


async def handle_update(ctx: Context, update: Update) -> None:
    session, actor, notes = ctx.session, ctx.actor, ctx.deps.notes
    match update.object:
        case RemoteActor() as remote:
            await notes.refresh_actor(actor, remote)
            await follow_remote_suspension(session, actor, remote.suspended, ctx.now())
        case RemoteNote() as note:
            post = await repo.get_post_by_uri(session, note.id)
            if post is None or post.account_id != actor.id:
                return
            await notes.revise(session, post, note, actor)
            await community.relay(ctx, post, update.as_received)
        case _:
            return  # other objects are not ours to keep
