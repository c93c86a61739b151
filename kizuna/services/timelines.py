"""Chronological timelines, newest first, paged by id. No ranking, ever.

The home feed follows the mixi2 feed rule: it stays strictly chronological, and now and then
a post from a community the user joined is inserted into it. Two streams, both paged by id:
the chronological one (own and followed accounts' posts, as ever) and the community one
(feed.community_stream: never a post the chronological one has). After every N chronological
items of a page comes the next community post, N being the user's setting (0: off). A page
carries a cursor per stream, so the same cursors always give the same page and a community
post never comes back on a later page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from kizuna.errors import NotFoundError, ValidationError
from kizuna.services.posts import Visibility
from kizuna.storage import feed, interactions, reactions, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.interactions import PostStats
from kizuna.storage.models import Account, Post
from kizuna.storage.reactions import EmojiCount

PAGE_SIZE = repo.PAGE_SIZE

# The mixi2 feed rule: one community post after every N home items. 0 turns it off.
DEFAULT_COMMUNITY_FEED_EVERY = 5
COMMUNITY_FEED_CHOICES = (0, 3, 5, 10, 20)

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    posts: list[Post]
    # max_id for the next (older) page; None at the end.
    next_max_id: int | None
    # Likes, boosts, replies and the viewer's own state, by the id of the post shown.
    stats: dict[int, PostStats] = field(default_factory=dict)
    # Emoji reactions (counts, the viewer's own, who), by the id of the post shown.
    reactions: dict[int, list[EmojiCount]] = field(default_factory=dict)
    # Home only: the community stream's cursor for the next page (its posts continue strictly
    # below it); None while no community post has been shown yet.
    next_community_max_id: int | None = None
    # Home only: ids of the posts inserted from the viewer's communities.
    inserted: frozenset[int] = frozenset()


def community_slots(main_count: int, every: int) -> int:
    """How many community posts go into a page of `main_count` chronological items.

    One after every `every` items, so floor(main_count / every), also on a short last page.
    An empty page gets none: community posts are inserted into the home feed, they never
    replace it (someone who follows nobody sees an empty home, not a community feed).
    """
    if every <= 0:
        return 0
    return main_count // every


def interleave(main: Sequence[T], inserts: Sequence[T], every: int) -> list[T]:
    """`main` in order, with the next of `inserts` after every `every` of its items."""
    merged: list[T] = []
    pending = list(inserts)
    pending.reverse()
    for position, item in enumerate(main, start=1):
        merged.append(item)
        if every > 0 and position % every == 0 and pending:
            merged.append(pending.pop())
    return merged


def _shown_ids(posts: Sequence[Post]) -> list[int]:
    return [p.reblog_of.id if p.reblog_of is not None else p.id for p in posts]


async def _page(session: Session, posts: list[Post], limit: int, viewer: Account | None) -> Page:
    ids, viewer_id = _shown_ids(posts), viewer.id if viewer else None
    return Page(
        posts=posts,
        next_max_id=posts[-1].id if len(posts) == limit else None,
        stats=await interactions.post_stats(session, ids, viewer_id),
        reactions=await reactions.counts(session, ids, viewer_id),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    account: Account
    following: int
    followers: int
    viewer_follows: bool
    viewer_requested: bool
    page: Page


class TimelineService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def home(
        self,
        viewer: Account,
        *,
        max_id: int | None = None,
        community_max_id: int | None = None,
        every: int | None = None,
    ) -> Page:
        """A home page: `max_id` pages the chronological stream, `community_max_id` the
        community one; `every` is N of the feed rule (None: the viewer's own setting)."""
        async with self.db.begin() as session:
            rows = await repo.home_timeline(session, viewer.id, max_id=max_id)
            # A post and its boosts show once, at the newest (Mastodon keeps reblogs of a
            # status already in the feed out of it too); paging still follows the raw rows.
            seen: set[int] = set()
            shown: list[Post] = []
            for post in rows:
                key = post.reblog_of_id or post.id
                if key not in seen:
                    seen.add(key)
                    shown.append(post)
            if every is None:
                stored = await feed.community_feed_every(session, viewer.id)
                every = DEFAULT_COMMUNITY_FEED_EVERY if stored is None else stored
            inserts = (
                await feed.community_stream(
                    session,
                    viewer.id,
                    max_id=community_max_id,
                    limit=community_slots(len(shown), every),
                )
                if every > 0
                else []
            )
            posts = interleave(shown, inserts, every)
            ids = _shown_ids(posts)
            stats = await interactions.post_stats(session, ids, viewer.id)
            counts = await reactions.counts(session, ids, viewer.id)
        return Page(
            posts=posts,
            next_max_id=rows[-1].id if len(rows) == PAGE_SIZE else None,
            stats=stats,
            reactions=counts,
            # No community post on this page: the next one continues where this one would have.
            next_community_max_id=inserts[-1].id if inserts else community_max_id,
            inserted=frozenset(p.id for p in inserts),
        )

    async def set_community_feed_every(self, user_id: int, every: int) -> None:
        """The user's N of the feed rule: one of COMMUNITY_FEED_CHOICES (0 turns it off)."""
        if every not in COMMUNITY_FEED_CHOICES:
            *some, last = (str(c) for c in COMMUNITY_FEED_CHOICES if c)
            raise ValidationError(
                f"choose Off, or one community post every {', '.join(some)} or {last} posts",
                field="community_feed_every",
            )
        async with self.db.begin() as session:
            if not await feed.set_community_feed_every(session, user_id, every):
                raise NotFoundError("no such user")

    async def local(self, viewer: Account | None = None, *, max_id: int | None = None) -> Page:
        async with self.db.begin() as session:
            posts = await repo.public_timeline(session, local_only=True, max_id=max_id)
            return await _page(session, posts, PAGE_SIZE, viewer)

    async def tag(
        self, tag: str, viewer: Account | None = None, *, max_id: int | None = None
    ) -> Page:
        async with self.db.begin() as session:
            posts = await repo.tag_timeline(session, tag, max_id=max_id)
            return await _page(session, posts, PAGE_SIZE, viewer)

    async def profile(
        self,
        username: str,
        viewer: Account | None,
        *,
        domain: str = "",
        max_id: int | None = None,
    ) -> Profile:
        async with self.db.begin() as session:
            account = await repo.get_account_by_username(session, username.casefold(), domain)
            if account is None or account.actor_type == "Application":
                where = f"@{domain}" if domain else " here"
                raise NotFoundError(f"no account named @{username}{where}")
            visibilities = [Visibility.PUBLIC.value, Visibility.UNLISTED.value]
            follow = (
                None if viewer is None else await repo.get_follow(session, viewer.id, account.id)
            )
            viewer_follows = follow is not None and follow.state == "accepted"
            if viewer is not None and (viewer_follows or viewer.id == account.id):
                visibilities.append(Visibility.PRIVATE.value)
            posts = await repo.account_timeline(
                session, account.id, visibilities=visibilities, max_id=max_id
            )
            following, followers = await repo.follow_counts(session, account.id)
            page = await _page(session, posts, PAGE_SIZE, viewer)
        return Profile(
            account=account,
            following=following,
            followers=followers,
            viewer_follows=viewer_follows,
            viewer_requested=follow is not None and follow.state == "pending",
            page=page,
        )
