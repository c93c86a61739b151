"""Reactions from other servers: Misskey's `Like` with `_misskey_reaction`/`content`,
Akkoma's `EmojiReact`, Mastodon's plain `Like` (a favourite), custom emoji with their tag.

Each activity id is stored once (a re-send changes nothing), and one account's one emoji on
one post once (a peer sending both forms counts once). An account gets at most
`REMOTE_LIMIT` reactions on a post: a flood is refused, the counts stay exact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from kizuna.activitypub.objects import EmojiReact, Like
from kizuna.activitypub.reactions import is_shortcode, valid_reaction
from kizuna.errors import NotFoundError, ValidationError
from kizuna.inbox.groups import GroupInbox
from kizuna.services.posts import can_see
from kizuna.storage import emoji as emoji_storage
from kizuna.storage import interactions, reactions, repo
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, CustomEmoji, Reaction

REMOTE_LIMIT = 10

# (session, shortcode, domain, icon url, Emoji id) → the stored (and cached) custom emoji.
RemoteEmoji = Callable[[Session, str, str, str, str | None], Awaitable[CustomEmoji]]


class ReactionInbox:
    def __init__(
        self, groups: GroupInbox, remote_emoji: RemoteEmoji, clock: Callable[[], datetime]
    ) -> None:
        self.groups = groups
        self.remote_emoji = remote_emoji
        self.clock = clock

    async def received(self, session: Session, actor: Account, like: Like | EmojiReact) -> None:
        post = await repo.get_post_by_uri(session, like.object_id)
        if post is None or not await can_see(session, post, actor):
            raise NotFoundError(f"no post {like.object_id[:200]} here that {actor.acct} can see")
        emoji = (like.content or "").strip()
        if not valid_reaction(emoji):
            raise ValidationError(f"{emoji[:40]!r} is not one emoji or a :shortcode:")
        custom = await self._custom(session, actor, emoji, like) if is_shortcode(emoji) else None
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
            created_at=self.clock(),
            activity_type="EmojiReact" if isinstance(like, EmojiReact) else None,
        )
        if not await interactions.add_reaction(session, reaction):
            return
        await self.groups.relay(session, post, actor, like.raw)
        if post.account.is_local:
            await interactions.notify(
                session,
                account_id=post.account_id,
                kind="reaction" if emoji else "like",
                from_account_id=actor.id,
                post_id=post.id,
                now=self.clock(),
                emoji=emoji,
                custom_emoji_id=custom.id if custom else None,
            )

    async def _custom(
        self, session: Session, actor: Account, emoji: str, like: Like | EmojiReact
    ) -> CustomEmoji:
        shortcode = emoji.strip(":")
        tag = next((e for e in like.emojis if e.shortcode == shortcode), None)
        if tag is None:
            # Without its Emoji tag a custom emoji cannot be shown (only our own can).
            ours = await emoji_storage.get_local(session, shortcode)
            if ours is None or ours.local_only:
                raise ValidationError(f"{emoji} comes without its Emoji tag")
            return ours
        tags = like.raw.get("tag")
        uri = next(
            (
                t["id"]
                for t in (tags if isinstance(tags, list) else [tags])
                if isinstance(t, dict) and t.get("name") == emoji and isinstance(t.get("id"), str)
            ),
            None,
        )
        return await self.remote_emoji(session, shortcode, actor.domain, tag.icon_url, uri)
