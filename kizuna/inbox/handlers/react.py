"""Reactions from other servers: Misskey's `Like` with `_misskey_reaction`/`content`,
Akkoma's `EmojiReact`, Mastodon's plain `Like` (a favourite), custom emoji with their tag;
and their Undo.

Each activity id is stored once (a re-send changes nothing), and one account's one emoji on
one post once (a peer sending both forms counts once). An account gets at most
`REMOTE_LIMIT` reactions on a post: a flood is refused, the counts stay exact.
"""

from __future__ import annotations

from kizuna.activitypub.objects import EmojiReact, Like, Undo
from kizuna.activitypub.reactions import is_shortcode, valid_reaction
from kizuna.errors import NotFoundError, ValidationError
from kizuna.inbox import community
from kizuna.inbox.context import Context
from kizuna.services.posts import can_see
from kizuna.storage import emoji as emoji_storage
from kizuna.storage import interactions, reactions, repo
from kizuna.storage.models import CustomEmoji, Reaction

REMOTE_LIMIT = 10


async def handle_reaction(ctx: Context, like: Like | EmojiReact) -> None:
    session, actor = ctx.session, ctx.actor
    post = await repo.get_post_by_uri(session, like.object_id)
    if post is None or not await can_see(session, post, actor):
        raise NotFoundError(f"no post {like.object_id[:200]} here that {actor.acct} can see")
    emoji = (like.content or "").strip()
    if not valid_reaction(emoji):
        raise ValidationError(f"{emoji[:40]!r} is not one emoji or a :shortcode:")
    custom = await _custom(ctx, emoji, like) if is_shortcode(emoji) else None
    mine = await reactions.of_account(session, actor.id, post.id)
    if any(r.uri == like.id or r.emoji == emoji for r in mine):
        return  # re-sent, or the same reaction in another form
    if len(mine) >= REMOTE_LIMIT:
        raise ValidationError(f"{actor.acct} has {len(mine)} reactions on this post already")
    reaction = Reaction(
        account_id=actor.id,
        post_id=post.id,
        emoji=emoji,
        custom_emoji_id=custom.id if custom else None,
        uri=like.id,
        created_at=ctx.now(),
        activity_type="EmojiReact" if isinstance(like, EmojiReact) else None,
    )
    if not await interactions.add_reaction(session, reaction):
        return
    await community.relay(ctx, post, like.as_received)
    await ctx.deps.surface.reacted(session, reaction, post, now=ctx.now())


async def _custom(ctx: Context, emoji: str, like: Like | EmojiReact) -> CustomEmoji:
    shortcode = emoji.strip(":")
    tag = next((e for e in like.emojis if e.shortcode == shortcode), None)
    if tag is None:
        # Without its Emoji tag a custom emoji cannot be shown (only our own can).
        ours = await emoji_storage.get_local(ctx.session, shortcode)
        if ours is None or ours.local_only:
            raise ValidationError(f"{emoji} comes without its Emoji tag")
        return ours
    return await ctx.deps.remote_emoji(
        ctx.session, shortcode, ctx.actor.domain, tag.icon_url, tag.id
    )


async def handle_undo(ctx: Context, undo: Undo) -> None:
    reaction = await interactions.undo_reaction(ctx.session, undo.undone.id or "", ctx.actor.id)
    if reaction is not None:
        post = await repo.get_post(ctx.session, reaction.post_id)
        await community.relay(ctx, post, undo.as_received)
