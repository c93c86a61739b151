"""The home feed's community stream (the mixi2 feed rule) and the per-user setting behind it.

Every function takes the session first; callers own the transaction (as in repo).
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kizuna.storage.models import Account, Follow, Post, User
from kizuna.storage.repo import POST_LOADS

# Only posts anyone may see end up in someone else's home feed by way of a community.
COMMUNITY_VISIBILITIES = ("public", "unlisted")


async def community_stream(
    session: AsyncSession, viewer_id: int, *, max_id: int | None, limit: int
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
    stmt = select(Post).options(*POST_LOADS).where(where)
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
