"""Timeline pages as a viewer sees them, the home feed's community stream (the mixi2 feed
rule) and the per-user setting behind it.

The pages honour the viewer's blocks, mutes and domain blocks (blocks.post_filters: nothing
is added for a viewer who has none) and, on public timelines, instance limits. Every function
takes the session first; callers own the transaction (as in repo).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from kizuna.storage.blocks import ViewerFilter, limited_filter, post_filters
from kizuna.storage.models import Account, Follow, Post, PostMention, PostTag, User
from kizuna.storage.repo import NOT_SUSPENDED, PAGE_SIZE, POST_LOADS

# Only posts anyone may see end up in someone else's home feed by way of a community.
COMMUNITY_VISIBILITIES = ("public", "unlisted")


async def _page(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    max_id: int | None,
    limit: int,
) -> list[Post]:
    stmt = select(Post).options(*POST_LOADS).where(*where, *NOT_SUSPENDED)
    if max_id is not None:
        stmt = stmt.where(Post.id < max_id)
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
) -> list[Post]:
    """Own posts, and followed accounts' posts that reach followers (DMs only if mentioned);
    limited accounts stay in the home feeds of their followers."""
    followed = select(Follow.target_account_id).where(
        Follow.account_id == account_id, Follow.state == "accepted"
    )
    mentioned = exists().where(PostMention.post_id == Post.id, PostMention.account_id == account_id)
    where = or_(
        Post.account_id == account_id,
        and_(
            Post.account_id.in_(followed),
            or_(Post.visibility != "direct", mentioned),
        ),
    )
    return await _page(session, [where, *_hiding(hidden)], max_id, limit)


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
    chronological feed. One query, the cards' accounts and community joined in (also for a
    limit of 0: a home page costs the same number of queries whatever it holds).
    """
    followed = select(Follow.target_account_id).where(
        Follow.account_id == viewer_id, Follow.state == "accepted"
    )
    joined = (
        select(Follow.target_account_id)
        .join(Account, Account.id == Follow.target_account_id)
        .where(
            Follow.account_id == viewer_id,
            Follow.state == "accepted",
            Account.actor_type == "Group",
        )
    )
    boost = aliased(Post)
    boosted_into_home = exists().where(
        boost.reblog_of_id == Post.id,
        or_(boost.account_id == viewer_id, boost.account_id.in_(followed)),
    )
    where = and_(
        Post.community_id.in_(joined),
        # A remote reply whose parent we never stored has only the uri: still a reply.
        Post.in_reply_to_id.is_(None),
        Post.in_reply_to_uri.is_(None),
        Post.reblog_of_id.is_(None),
        Post.visibility.in_(COMMUNITY_VISIBILITIES),
        Post.account_id != viewer_id,
        Post.account_id.not_in(followed),
        ~boosted_into_home,
    )
    stmt = select(Post).options(*POST_LOADS).where(where, *NOT_SUSPENDED, *_hiding(hidden))
    if max_id is not None:
        stmt = stmt.where(Post.id < max_id)
    stmt = stmt.order_by(Post.id.desc()).limit(limit)
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
