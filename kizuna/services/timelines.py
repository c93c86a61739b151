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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from kizuna.activitypub.vocab import Visibility
from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, ValidationError
from kizuna.federation.policy import FederationPolicy
from kizuna.storage import blocks, feed, interactions, reactions, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.interactions import PostStats
from kizuna.storage.models import Account, Post
from kizuna.storage.reactions import EmojiCount
from kizuna.storage.states import FollowState

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


async def card_counts(
    session: Session, posts: Sequence[Post], viewer_id: int | None
) -> tuple[dict[int, PostStats], dict[int, list[EmojiCount]]]:
    """What the cards of `posts` show besides the posts: counts and the viewer's own likes,
    boosts and reactions, by the id of the post shown (a boost shows its original's)."""
    ids = _shown_ids(posts)
    stats = await interactions.post_stats(session, ids, viewer_id)
    return stats, await reactions.counts(session, ids, viewer_id)


async def _page(session: Session, posts: list[Post], limit: int, viewer: Account | None) -> Page:
    stats, counts = await card_counts(session, posts, viewer.id if viewer else None)
    return Page(
        posts=posts,
        next_max_id=posts[-1].id if len(posts) == limit else None,
        stats=stats,
        reactions=counts,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    account: Account
    following: int
    followers: int
    viewer_follows: bool
    viewer_requested: bool
    page: Page
    # The viewer's relationship to the account (all False/None for a visitor or oneself).
    viewer_blocks: bool = False
    blocked_by: bool = False  # the account blocked the viewer: none of its posts are shown
    muted_until: datetime | None = None
    viewer_mutes: bool = False
    domain_blocked: bool = False


class TimelineService:
    def __init__(
        self,
        db: Database,
        policy: FederationPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock

    async def _silenced_domains(self) -> tuple[str, ...]:
        return () if self.policy is None else (await self.policy.fresh()).silenced_domains()

    async def _hidden(self, session: Session, viewer: Account | None) -> blocks.ViewerFilter | None:
        return (
            None if viewer is None else await blocks.viewer_filter(session, viewer.id, self.clock())
        )

    async def home(
        self,
        viewer: Account,
        *,
        max_id: int | None = None,
        community_max_id: int | None = None,
        every: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> Page:
        """A home page: `max_id` pages the chronological stream, `community_max_id` the
        community one; `every` is N of the feed rule (None: the viewer's own setting);
        `limit` chronological rows at most."""
        async with self.db.begin() as session:
            hidden = await self._hidden(session, viewer)
            rows = await feed.home_timeline(
                session, viewer.id, max_id=max_id, hidden=hidden, limit=limit
            )
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
                    hidden=hidden,
                )
                if every > 0
                else []
            )
            posts = interleave(shown, inserts, every)
            stats, counts = await card_counts(session, posts, viewer.id)
        return Page(
            posts=posts,
            next_max_id=rows[-1].id if len(rows) == limit else None,
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
        return await self.public(viewer, local_only=True, max_id=max_id)

    async def public(
        self, viewer: Account | None = None, *, local_only: bool, max_id: int | None = None
    ) -> Page:
        """Local or federated timeline: limited accounts and domains are left out."""
        silenced = () if local_only else await self._silenced_domains()
        async with self.db.begin() as session:
            posts = await feed.public_timeline(
                session,
                local_only=local_only,
                max_id=max_id,
                silenced_domains=silenced,
                hidden=await self._hidden(session, viewer),
            )
            return await _page(session, posts, PAGE_SIZE, viewer)

    async def tag(
        self, tag: str, viewer: Account | None = None, *, max_id: int | None = None
    ) -> Page:
        silenced = await self._silenced_domains()
        async with self.db.begin() as session:
            posts = await feed.tag_timeline(
                session,
                tag,
                max_id=max_id,
                silenced_domains=silenced,
                hidden=await self._hidden(session, viewer),
            )
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
            if account is None or account.is_instance_actor:
                where = f"@{domain}" if domain else " here"
                raise NotFoundError(f"no account named @{username}{where}")
            if account.suspended_at is not None:  # instance moderation (purged ones too)
                raise NotFoundError(f"@{account.acct} has been suspended")
            visibilities = [Visibility.PUBLIC.value, Visibility.UNLISTED.value]
            follow = (
                None if viewer is None else await repo.get_follow(session, viewer.id, account.id)
            )
            viewer_follows = follow is not None and follow.state == FollowState.ACCEPTED
            if viewer is not None and (viewer_follows or viewer.id == account.id):
                visibilities.append(Visibility.PRIVATE.value)
            relation = await self._relation(session, viewer, account)
            # Blocked by the account: its profile shows the viewer nothing it posted (as
            # Mastodon's AccountStatusesFilter); a mute or one's own block still lets it show.
            posts = (
                []
                if relation.blocked_by
                else await repo.account_timeline(
                    session, account.id, visibilities=visibilities, max_id=max_id
                )
            )
            following, followers = await repo.follow_counts(session, account.id)
            page = await _page(session, posts, PAGE_SIZE, viewer)
        return Profile(
            account=account,
            following=following,
            followers=followers,
            viewer_follows=viewer_follows,
            viewer_requested=follow is not None and follow.state == FollowState.PENDING,
            page=page,
            viewer_blocks=relation.viewer_blocks,
            blocked_by=relation.blocked_by,
            viewer_mutes=relation.viewer_mutes,
            muted_until=relation.muted_until,
            domain_blocked=relation.domain_blocked,
        )

    async def _relation(
        self, session: Session, viewer: Account | None, account: Account
    ) -> _Relation:
        if viewer is None or viewer.id == account.id:
            return _Relation()
        mute = await blocks.get_mute(session, viewer.id, account.id, self.clock())
        return _Relation(
            viewer_blocks=await blocks.get_block(session, viewer.id, account.id) is not None,
            blocked_by=await blocks.get_block(session, account.id, viewer.id) is not None,
            viewer_mutes=mute is not None,
            muted_until=mute.expires_at if mute is not None else None,
            domain_blocked=bool(account.domain)
            and await blocks.has_domain_block(session, viewer.id, account.domain),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Relation:
    viewer_blocks: bool = False
    blocked_by: bool = False
    viewer_mutes: bool = False
    muted_until: datetime | None = None
    domain_blocked: bool = False
