"""Boosting posts, likes (as reactions), threads and the notifications page's reading."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kizuna.activitypub.ids import status_page_url, status_url
from kizuna.activitypub.vocab import PUBLIC_VISIBILITIES, Visibility
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import ValidationError
from kizuna.outbox.outbox import Outbox
from kizuna.services.posts import can_see, visible_target
from kizuna.services.reactions import ReactionService
from kizuna.services.surface import Surface
from kizuna.storage import blocks, interactions, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.ids import new_id
from kizuna.storage.interactions import PostStats
from kizuna.storage.models import Account, Notification, Post


async def add_boost(
    session: Session,
    surface: Surface,
    booster: Account,
    original: Post,
    *,
    id: int,
    uri: str,
    url: str | None,
    created_at: datetime,
    now: datetime,
) -> Post:
    """The boost row and the notification it leaves (for the original's author, when
    ours): one of our accounts' boosts and one another server announces alike."""
    boost = Post(
        id=id,
        uri=uri,
        url=url,
        account_id=booster.id,
        local=booster.is_local,
        visibility=Visibility.PUBLIC,
        reblog_of_id=original.id,
        created_at=created_at,
    )
    session.add(boost)
    await session.flush()
    await surface.boosted(session, boost, original, now=now)
    return boost


class InteractionService:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        reactions: ReactionService,
        surface: Surface,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox
        self.reactions = reactions
        self.surface = surface
        self.clock = clock

    async def like(self, account: Account, post_id: int) -> None:
        """A plain like: the reaction "" (Mastodon's favourite)."""
        await self.reactions.react(account, post_id, "")

    async def unlike(self, account: Account, post_id: int) -> None:
        await self.reactions.unreact(account, post_id, "")

    async def boost(self, account: Account, post_id: int) -> None:
        async with self.db.begin() as session:
            original = await visible_target(session, post_id, account)
            if original.visibility not in PUBLIC_VISIBILITIES:
                raise ValidationError("only public and unlisted posts can be boosted")
            if await interactions.get_boost(session, account.id, original.id) is not None:
                return
            boost_id = new_id()
            base = self.config.base_url
            boost = await add_boost(
                session,
                self.surface,
                account,
                original,
                id=boost_id,
                uri=status_url(base, account.username, boost_id),
                url=status_page_url(base, account.username, boost_id),
                created_at=self.clock(),
                now=self.clock(),
            )
            await self.outbox.send_announce(session, boost, account, original)

    async def unboost(self, account: Account, post_id: int) -> None:
        async with self.db.begin() as session:
            original = await visible_target(session, post_id, account)
            boost = await interactions.get_boost(session, account.id, original.id)
            if boost is None:
                return
            await self.outbox.send_undo_announce(session, boost, account, original)
            await repo.delete_post(session, boost.id)

    async def stats(self, posts: list[Post], viewer: Account | None) -> dict[int, PostStats]:
        """Counts for the cards shown: a boost shows its original's."""
        ids = [p.reblog_of.id if p.reblog_of is not None else p.id for p in posts]
        async with self.db.begin() as session:
            return await interactions.post_stats(session, ids, viewer.id if viewer else None)

    async def notifications(
        self, account: Account, *, max_id: int | None = None
    ) -> list[Notification]:
        async with self.db.begin() as session:
            return await interactions.notifications(session, account.id, max_id=max_id)

    async def thread(self, post: Post, viewer: Account | None) -> tuple[list[Post], list[Post]]:
        async with self.db.begin() as session:
            ancestors, replies = await interactions.thread(session, post)
            visible_ancestors = [p for p in ancestors if await can_see(session, p, viewer)]
            visible_replies = [p for p in replies if await can_see(session, p, viewer)]
            if viewer is not None:
                # The viewer's blocks and mutes, as in their feeds.
                hidden = await blocks.viewer_filter(session, viewer.id, self.clock())
                if not hidden.empty:
                    hides = await blocks.hides(session, hidden)
                    visible_ancestors = [p for p in visible_ancestors if not hides(p)]
                    visible_replies = [p for p in visible_replies if not hides(p)]
        return visible_ancestors, visible_replies
