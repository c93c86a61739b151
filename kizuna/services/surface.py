"""Surfacing: what an action, ours or another server's, leaves for the people it concerns.

One method per kind of action, called in the action's own transaction by whichever side
did it (a service for a local user, the inbox for a remote one), so both sides notify
alike: only local accounts are told, never about themselves, and never by an account they
blocked, muted with notifications, or whose domain they hide (storage.interactions.notify).

Live pages need nothing more from here: the rows written (the notification here, the post
or follow by the caller) become hints when the transaction commits (realtime.hub.LiveHub
.capture), so a page is never woken for what a rollback undid. Feeds have no entries to
write either: they are read from follows and communities when shown (storage.feed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kizuna.activitypub.ids import instance_urls
from kizuna.config import Config
from kizuna.storage import interactions, repo
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, AccountWarning, Follow, Post, Reaction
from kizuna.storage.states import FollowState


class Surface:
    def __init__(self, config: Config) -> None:
        self.instance_uri = instance_urls(config.base_url).id

    async def followed(
        self, session: Session, follow: Follow, target: Account, *, now: datetime
    ) -> None:
        """A new follow: "followed you", or "asked to follow you" while it waits for
        approval. A community's joins tell nobody: no one reads a Group's notifications
        (its moderators see pending joins on the moderation page)."""
        if target.is_group:
            return
        kind = "follow" if follow.state == FollowState.ACCEPTED else "follow_request"
        await self._tell(session, target, kind, follow.account_id, None, now=now)

    async def posted(
        self,
        session: Session,
        post: Post,
        *,
        parent: Post | None,
        mentioned: Sequence[Account],
        now: datetime,
    ) -> None:
        """A new post: its parent's author hears of a reply, the others it mentions of a
        mention, each once."""
        addressed = [(parent.account, "reply")] if parent is not None else []
        addressed += [(account, "mention") for account in mentioned]
        told: set[int] = set()
        for account, kind in addressed:
            if account.id not in told:
                await self._tell(session, account, kind, post.account_id, post.id, now=now)
                told.add(account.id)

    async def boosted(
        self, session: Session, boost: Post, original: Post, *, now: datetime
    ) -> None:
        await self._tell(session, original.account, "boost", boost.account_id, original.id, now=now)

    async def reacted(
        self, session: Session, reaction: Reaction, post: Post, *, now: datetime
    ) -> None:
        """A plain like ("") or an emoji reaction; the page groups both per post."""
        await self._tell(
            session,
            post.account,
            "like" if reaction.emoji == "" else "reaction",
            reaction.account_id,
            post.id,
            now=now,
            emoji=reaction.emoji,
            custom_emoji_id=reaction.custom_emoji_id,
        )

    async def warned(
        self, session: Session, warning: AccountWarning, account: Account, *, now: datetime
    ) -> None:
        """A moderator's strike on `account`, told in the instance's name. Not a suspension:
        a suspended owner cannot read notifications anyway."""
        if warning.action == "suspend":
            return
        instance = await repo.get_account_by_uri(session, self.instance_uri)
        if instance is not None:
            await self._tell(session, account, "warning", instance.id, None, now=now)

    async def _tell(
        self,
        session: Session,
        recipient: Account,
        kind: str,
        from_account_id: int,
        post_id: int | None,
        *,
        now: datetime,
        emoji: str | None = None,
        custom_emoji_id: int | None = None,
    ) -> None:
        if not recipient.is_local:
            return  # its own server tells it
        await interactions.notify(
            session,
            account_id=recipient.id,
            kind=kind,
            from_account_id=from_account_id,
            post_id=post_id,
            now=now,
            emoji=emoji,
            custom_emoji_id=custom_emoji_id,
        )
