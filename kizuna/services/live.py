"""Live streams: what an open home, community or thread page is sent as it happens.

A stream subscribes to hints (realtime.broker) and, when woken, reads what is new from the
database with the page's own rules (visibility, blocks, mutes), so it never shows what a
reload would not. Positions are post ids (time-ordered snowflakes): a stream resumes from the
last id its reader saw (SSE Last-Event-ID), re-reading a few seconds before it because ids
are taken at flush and a transaction may commit a moment after a later one; readers drop
what they already show by id.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kizuna.clock import utcnow
from kizuna.realtime.broker import Key, Subscription
from kizuna.realtime.events import LiveEvent
from kizuna.realtime.hub import LiveHub
from kizuna.services.interactions import InteractionService
from kizuna.services.timelines import card_counts
from kizuna.storage import blocks, communities, feed, live
from kizuna.storage.engine import Database, Session
from kizuna.storage.ids import SEQUENCE_BITS, snowflake
from kizuna.storage.interactions import PostStats
from kizuna.storage.models import Account, Post
from kizuna.storage.reactions import EmojiCount

LOOKBACK = 5_000 << SEQUENCE_BITS  # 5 s of ids: commits land a moment after their flush
CATCH_UP = 40  # posts per read
MAX_CATCH_UP = 200  # past this many missed posts, the reader is told to reload instead
SENT_MEMORY = 2_000
# Streams reading at once. Many open pages woken by one post queue here instead of for the
# connection pool, where the post's own writer and every other request would queue too.
CONCURRENT_READS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    posts: list[Post] = field(default_factory=list)  # oldest first, none sent before
    stats: dict[int, PostStats] = field(default_factory=dict)
    reactions: dict[int, list[EmojiCount]] = field(default_factory=dict)
    # More arrived than a stream sends at once: the page should reload to see them all.
    gap: bool = False
    notifications: list[int] = field(default_factory=list)  # new notification ids


class _Sent:
    """The ids a stream has sent lately, so a re-read never sends one twice."""

    def __init__(self) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._ids

    def add(self, post_id: int) -> None:
        self._ids[post_id] = None
        if len(self._ids) > SENT_MEMORY:
            self._ids.popitem(last=False)


class Stream:
    """One open page. `ready` is set when there may be something to send; `read` sends it."""

    def __init__(
        self, service: LiveService, subscription: Subscription, viewer: Account | None, cursor: int
    ) -> None:
        self.service = service
        self.subscription = subscription
        self.viewer = viewer
        self.cursor = cursor  # the highest post id the reader has (or a time, as an id)
        self.sent = _Sent()

    @property
    def ready(self) -> bool:
        return self.subscription.ready.is_set()

    async def wait(self) -> None:
        await self.subscription.ready.wait()

    def close(self) -> None:
        self.subscription.close()

    async def read(self) -> Batch:
        # Waiting for a turn first: hints that arrive meanwhile join this read.
        async with self.service.readers:
            events, lost = self.subscription.take()
            try:
                return await self._read(events, lost)
            except BaseException:
                self.subscription.mark_lost()  # a failed read (database away) is retried
                raise

    async def _read(self, events: list[LiveEvent], lost: bool) -> Batch:
        notes = [e.id for e in events if e.kind == "notification"]
        if any(e.kind == "follow" for e in events):
            await self.on_follows_changed()
            # A newly followed account's posts committed before its key was watched sent
            # their hints nowhere: read from the cursor as after a loss.
            lost = True
        hinted = [e.id for e in events if e.kind == "post"]
        if not lost and not hinted:
            return Batch(notifications=notes)
        floor = self.cursor - LOOKBACK if lost else min(hinted) - 1
        async with self.service.db.begin() as session:
            posts, gap = await self._collect(session, floor)
            fresh = self._unsent(posts)
            if not fresh:
                return Batch(gap=gap, notifications=notes)
            stats, counts = await card_counts(session, fresh, self._viewer_id)
        return Batch(posts=fresh, stats=stats, reactions=counts, gap=gap, notifications=notes)

    @property
    def _viewer_id(self) -> int | None:
        return self.viewer.id if self.viewer else None

    def _unsent(self, posts: list[Post]) -> list[Post]:
        """Those of `posts` this stream has not sent, now counted as sent."""
        fresh = [p for p in posts if p.id not in self.sent]
        for post in fresh:
            self.sent.add(post.id)
            self.cursor = max(self.cursor, post.id)
        return fresh

    async def _collect(self, session: Session, floor: int) -> tuple[list[Post], bool]:
        """Posts newer than `floor`, oldest first; True if more were left out."""
        collected: list[Post] = []
        max_id: int | None = None
        while len(collected) < MAX_CATCH_UP:
            rows = await self.newer(session, floor, max_id)
            collected.extend(rows)
            if len(rows) < CATCH_UP:
                collected.reverse()
                return collected, False
            max_id = rows[-1].id
        # The newest MAX_CATCH_UP, oldest first; the reader reloads for the rest.
        collected.reverse()
        return collected, True

    async def newer(self, session: Session, floor: int, max_id: int | None) -> list[Post]:
        raise NotImplementedError

    async def on_follows_changed(self) -> None:
        """Only the home stream follows whom its viewer follows."""

    async def _hidden(self, session: Session) -> blocks.ViewerFilter | None:
        if self.viewer is None:
            return None
        return await blocks.viewer_filter(session, self.viewer.id, self.service.clock())


class HomeStream(Stream):
    async def newer(self, session: Session, floor: int, max_id: int | None) -> list[Post]:
        assert self.viewer is not None
        return await feed.home_timeline(
            session,
            self.viewer.id,
            max_id=max_id,
            min_id=floor,
            limit=CATCH_UP,
            hidden=await self._hidden(session),
        )

    async def on_follows_changed(self) -> None:
        assert self.viewer is not None
        async with self.service.db.begin() as session:
            followed = await live.followed_ids(session, self.viewer.id)
        self.subscription.replace_keys("author", [self.viewer.id, *followed])


class CommunityStream(Stream):
    def __init__(
        self,
        service: LiveService,
        subscription: Subscription,
        viewer: Account | None,
        cursor: int,
        community_id: int,
    ) -> None:
        super().__init__(service, subscription, viewer, cursor)
        self.community_id = community_id

    async def newer(self, session: Session, floor: int, max_id: int | None) -> list[Post]:
        hidden = await self._hidden(session)
        return await communities.community_posts(
            session,
            self.community_id,
            max_id=max_id,
            min_id=floor,
            limit=CATCH_UP,
            hidden=blocks.post_filters(hidden) if hidden is not None else (),
        )


class ThreadStream(Stream):
    """A post's page: its new replies (and replies to them), as the page would list them."""

    def __init__(
        self,
        service: LiveService,
        subscription: Subscription,
        viewer: Account | None,
        cursor: int,
        post: Post,
    ) -> None:
        super().__init__(service, subscription, viewer, cursor)
        self.post = post

    async def _read(self, events: list[LiveEvent], lost: bool) -> Batch:
        notes = [e.id for e in events if e.kind == "notification"]
        if not lost and not any(e.kind == "post" for e in events):
            return Batch(notifications=notes)
        _ancestors, replies = await self.service.interactions.thread(self.post, self.viewer)
        self.subscription.watch(("reply_to", p.id) for p in replies)
        fresh = self._unsent(replies)
        if not fresh:
            return Batch(notifications=notes)
        async with self.service.db.begin() as session:
            stats, counts = await card_counts(session, fresh, self._viewer_id)
        return Batch(posts=fresh, stats=stats, reactions=counts, notifications=notes)


class NotificationStream(Stream):
    async def _read(self, events: list[LiveEvent], lost: bool) -> Batch:
        return Batch(notifications=[e.id for e in events if e.kind == "notification"])


class LiveService:
    def __init__(
        self,
        db: Database,
        hub: LiveHub,
        interactions_service: InteractionService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.hub = hub
        self.interactions = interactions_service
        self.clock = clock
        self.readers = asyncio.Semaphore(CONCURRENT_READS)

    def now_cursor(self) -> int:
        """A position meaning "from now on": the smallest id a post made now could have."""
        return snowflake(int(self.clock().timestamp() * 1000), 0)

    def _start(self, resume: int | None) -> tuple[int, bool]:
        """The stream's cursor and whether to read what was missed straight away. A resume
        point from the future (a confused or hostile client) counts as now."""
        now = self.now_cursor()
        if resume is None:
            return now, False
        return min(resume, now), True

    def _subscribe(self, viewer: Account | None, keys: list[Key]) -> Subscription:
        if viewer is not None:
            keys.append(("notify", viewer.id))
        return self.hub.broker.subscribe(keys)

    async def home(self, viewer: Account, resume: int | None = None) -> HomeStream:
        async with self.db.begin() as session:
            followed = await live.followed_ids(session, viewer.id)
        keys: list[Key] = [("author", i) for i in (viewer.id, *followed)]
        keys.append(("follow", viewer.id))
        cursor, catch_up = self._start(resume)
        stream = HomeStream(self, self._subscribe(viewer, keys), viewer, cursor)
        if catch_up:
            stream.subscription.mark_lost()
        return stream

    def community(
        self, community_id: int, viewer: Account | None, resume: int | None = None
    ) -> CommunityStream:
        cursor, catch_up = self._start(resume)
        subscription = self._subscribe(viewer, [("community", community_id)])
        stream = CommunityStream(self, subscription, viewer, cursor, community_id)
        if catch_up:
            stream.subscription.mark_lost()
        return stream

    async def thread(
        self, post: Post, viewer: Account | None, resume: int | None = None
    ) -> ThreadStream:
        """Replies the reader has are those older than the resume point (or all, now)."""
        cursor, _catch_up = self._start(resume)
        _ancestors, replies = await self.interactions.thread(post, viewer)
        keys: list[Key] = [("reply_to", p.id) for p in (post, *replies)]
        stream = ThreadStream(self, self._subscribe(viewer, keys), viewer, cursor, post)
        seen = cursor - LOOKBACK if resume is not None else cursor
        for reply in replies:
            if reply.id <= seen:
                stream.sent.add(reply.id)
        if any(reply.id > seen for reply in replies):
            stream.subscription.mark_lost()
        return stream

    def notifications(self, viewer: Account) -> NotificationStream:
        return NotificationStream(self, self._subscribe(viewer, []), viewer, self.now_cursor())
