"""Timeline pages as a viewer sees them, the home feed's community stream (the mixi2 feed
rule) and the per-user setting behind it.

The pages honour the viewer's blocks, mutes and domain blocks (blocks.post_filters: nothing
is added for a viewer who has none) and, on public timelines, instance limits. Every function
takes the session first; callers own the transaction (as in repo).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    SQLColumnExpression,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from kizuna.activitypub.vocab import PUBLIC_VISIBILITIES, ActorType
from kizuna.storage.blocks import ViewerFilter, limited_filter, post_filters
from kizuna.storage.models import Account, Follow, Post, PostMention, PostTag, User
from kizuna.storage.repo import CARD_LOADS, NOT_SUSPENDED, PAGE_SIZE
from kizuna.storage.states import FollowState

# Only posts anyone may see end up in someone else's home feed by way of a community.
COMMUNITY_VISIBILITIES = PUBLIC_VISIBILITIES


async def _page(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    max_id: int | None,
    limit: int,
    min_id: int | None = None,
) -> list[Post]:
    stmt = select(Post).options(*CARD_LOADS).where(*where, *NOT_SUSPENDED)
    if max_id is not None:
        stmt = stmt.where(Post.id < max_id)
    if min_id is not None:
        stmt = stmt.where(Post.id > min_id)
    stmt = stmt.order_by(Post.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


def _hiding(hidden: ViewerFilter | None) -> list[ColumnElement[bool]]:
    return [] if hidden is None else post_filters(hidden)


async def home_timeline(
    session: AsyncSession,
    account_id: int,
    *,
    max_id: int | None,
    hidden: ViewerFilter | None = None,
    limit: int = PAGE_SIZE,
    min_id: int | None = None,
) -> list[Post]:
    """Own posts, and followed accounts' posts that reach followers (DMs only if mentioned);
    limited accounts stay in the home feeds of their followers.

    Two plans, because no single one is cheap at every follow count (1M posts, 10,000
    accounts, SQLite): reading each followed account's posts through ix_posts_account_id_id
    and sorting them costs 15 ms at 100 follows and 0.8 s at 5,000; walking the posts newest
    first and keeping those of followed accounts costs 0.2 ms at 5,000 and never ends for
    someone who follows nobody. So the newest HOME_WINDOW posts below `max_id` are walked
    first; only when they hold fewer than `limit` matches (a sparse feed, whose followed
    accounts wrote little) do the per-author index read the rest, below the window.
    """
    followed = select(Follow.target_account_id).where(
        Follow.account_id == account_id, Follow.state == FollowState.ACCEPTED
    )
    mentioned = exists().where(PostMention.post_id == Post.id, PostMention.account_id == account_id)

    def rule(author: SQLColumnExpression[int]) -> ColumnElement[bool]:
        return or_(
            Post.account_id == account_id,
            and_(author.in_(followed), or_(Post.visibility != "direct", mentioned)),
        )

    filters = [*_hiding(hidden), *_id_range(max_id, min_id)]
    window = _window(max_id)
    # `account_id + 0` is not indexed: the planner walks posts by id instead (both backends).
    walked = rule(Post.account_id + literal_column("0"))
    floor = select(func.min(window.c.id)).scalar_subquery()
    recent = await _newest(session, [walked, *filters, Post.id >= floor], limit)
    if len(recent) == limit:
        return recent
    oldest, size = (await session.execute(select(func.min(window.c.id), func.count()))).one()
    if size < HOME_WINDOW or (min_id is not None and oldest <= min_id):
        return recent  # the window held every post in range
    rest = [rule(Post.account_id), *filters, Post.id < oldest]
    return recent + await _newest(session, rest, limit - len(recent))


# Posts walked newest first before the home feed turns to the per-author index: about 2 ms
# on SQLite and PostgreSQL. Fewer than a page of matches in them means the followed accounts
# wrote under 0.4 % of the posts: few enough to read through the index and sort.
HOME_WINDOW = 10_000


def _id_range(max_id: int | None, min_id: int | None) -> list[ColumnElement[bool]]:
    bounds = [] if max_id is None else [Post.id < max_id]
    return bounds if min_id is None else [*bounds, Post.id > min_id]


def _window(max_id: int | None) -> Subquery:
    """The ids of the HOME_WINDOW newest posts below max_id: a walk of the id index."""
    newest = select(Post.id).where(*_id_range(max_id, None)).order_by(Post.id.desc())
    return newest.limit(HOME_WINDOW).subquery()


async def _newest(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], limit: int
) -> list[Post]:
    stmt = select(Post).options(*CARD_LOADS).where(*where, *NOT_SUSPENDED)
    stmt = stmt.order_by(Post.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def public_timeline(
    session: AsyncSession,
    *,
    local_only: bool,
    max_id: int | None,
    silenced_domains: tuple[str, ...] = (),
    hidden: ViewerFilter | None = None,
    limit: int = PAGE_SIZE,
) -> list[Post]:
    """Public posts (no boosts), without limited accounts or domains."""
    where = [Post.visibility == "public", Post.reblog_of_id.is_(None)]
    if local_only:
        where.append(Post.local.is_(True))
        # A local account has no domain: only its own limit applies.
        silenced_domains = ()
    where.append(limited_filter(silenced_domains))
    return await _page(session, [*where, *_hiding(hidden)], max_id, limit)


async def tag_timeline(
    session: AsyncSession,
    tag: str,
    *,
    max_id: int | None,
    silenced_domains: tuple[str, ...] = (),
    hidden: ViewerFilter | None = None,
    limit: int = PAGE_SIZE,
) -> list[Post]:
    """A hashtag's public posts: a public listing too, so limited accounts stay out."""
    tagged = select(PostTag.post_id).where(PostTag.tag == tag)
    where = [Post.visibility == "public", Post.id.in_(tagged), Post.reblog_of_id.is_(None)]
    where.append(limited_filter(silenced_domains))
    return await _page(session, [*where, *_hiding(hidden)], max_id, limit)


async def community_stream(
    session: AsyncSession,
    viewer_id: int,
    *,
    max_id: int | None,
    limit: int,
    hidden: ViewerFilter | None = None,
) -> list[Post]:
    """The next `limit` posts, newest first, from the communities the viewer joined.

    Top-level posts only (no replies, no boosts), public or unlisted, in a Group the viewer
    follows with an accepted follow (a pending join shows nothing). Posts that reach the home
    feed anyway never come here: the viewer's own, those of accounts the viewer follows, and
    those the viewer or a followed account boosted. So an inserted post is never also in the
    chronological feed. Two queries whatever the page holds (the joined communities, then
    their posts with the cards' accounts and community joined in), one when none is joined or
    no slot is free.
    """
    joined = await joined_communities(session, viewer_id)
    if not joined or limit <= 0:
        return []
    followed = select(Follow.target_account_id).where(
        Follow.account_id == viewer_id, Follow.state == FollowState.ACCEPTED
    )
    boost = aliased(Post)
    boosted_into_home = exists().where(
        boost.reblog_of_id == Post.id,
        or_(boost.account_id == viewer_id, boost.account_id.in_(followed)),
    )
    zero: ColumnElement[int] = literal_column("0")
    where = and_(
        # The list, not a subquery, and `+ 0` on the other indexed columns: without
        # statistics SQLite would otherwise read every top-level post through the
        # in_reply_to_id or reblog_of_id index (40 ms at 200,000 posts) instead of the
        # communities' posts through ix_posts_community_id_id.
        Post.community_id.in_(joined),
        # A remote reply whose parent we never stored has only the uri: still a reply.
        (Post.in_reply_to_id + zero).is_(None),
        Post.in_reply_to_uri.is_(None),
        (Post.reblog_of_id + zero).is_(None),
        Post.visibility.in_(COMMUNITY_VISIBILITIES),
        Post.account_id != viewer_id,
        Post.account_id.not_in(followed),
        ~boosted_into_home,
    )
    stmt = select(Post).options(*CARD_LOADS).where(where, *NOT_SUSPENDED, *_hiding(hidden))
    if max_id is not None:
        stmt = stmt.where(Post.id < max_id)
    stmt = stmt.order_by(Post.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def joined_communities(session: AsyncSession, viewer_id: int) -> list[int]:
    """Groups the viewer follows with an accepted follow (a pending join counts for nothing)."""
    stmt = (
        select(Follow.target_account_id)
        .join(Account, Account.id == Follow.target_account_id)
        .where(
            Follow.account_id == viewer_id,
            Follow.state == FollowState.ACCEPTED,
            Account.actor_type == ActorType.GROUP,
        )
    )
    return list((await session.scalars(stmt)).all())


async def community_feed_every(session: AsyncSession, account_id: int) -> int | None:
    """The user's N (one community post every N feed items; 0 = off); None if not a user."""
    stmt = select(User.community_feed_every).where(User.account_id == account_id)
    value = await session.scalar(stmt)
    return None if value is None else int(value)


async def set_community_feed_every(session: AsyncSession, user_id: int, every: int) -> bool:
    """False when there is no such user."""
    result = await session.execute(
        update(User).where(User.id == user_id).values(community_feed_every=every)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
