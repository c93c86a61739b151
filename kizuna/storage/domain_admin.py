"""Queries behind the domain-policy admin: what a suspension would cut, blocklist
subscriptions, and the public list's setting. Policies themselves: storage/domain_policies.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kizuna.activitypub.vocab import ActorType
from kizuna.storage import repo
from kizuna.storage.models import Account, BlocklistSubscription, DomainPolicy, Follow, Post
from kizuna.storage.repo import on_domain

VISIBILITY_KEY = "domain_blocks_visibility"  # nobody | users | everyone
EXAMPLES = 20

Pair = Callable[[Any, Any], list[ColumnElement[bool]]]  # (follower, target) → conditions


@dataclass(frozen=True, slots=True)
class Sample:
    """How many rows match, and the first few as text (`@alice → @bob@b.test`)."""

    count: int
    examples: tuple[str, ...]


async def _follow_sample(session: AsyncSession, conditions: Pair) -> Sample:
    follower = aliased(Account)
    target = aliased(Account)
    where = conditions(follower, target)
    base = (
        select(follower, target)
        .join(Follow, follower.id == Follow.account_id)
        .join(target, target.id == Follow.target_account_id)
        .where(*where)
    )
    count = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = await session.execute(base.order_by(Follow.id).limit(EXAMPLES))
    examples = tuple(f"@{a.acct} → @{b.acct}" for a, b in rows)
    return Sample(int(count or 0), examples)


async def follows_out(session: AsyncSession, domain: str) -> Sample:
    """Local accounts following people (not communities) on `domain`."""
    return await _follow_sample(
        session,
        lambda f, t: [f.domain == "", on_domain(t.domain, domain), t.actor_type != ActorType.GROUP],
    )


async def follows_in(session: AsyncSession, domain: str) -> Sample:
    """People on `domain` following local accounts (not our communities)."""
    return await _follow_sample(
        session,
        lambda f, t: [on_domain(f.domain, domain), t.domain == "", t.actor_type != ActorType.GROUP],
    )


async def members_here(session: AsyncSession, domain: str) -> Sample:
    """`domain`'s accounts in our communities (a member is a Group's follower)."""
    return await _follow_sample(
        session,
        lambda f, t: [on_domain(f.domain, domain), t.domain == "", t.actor_type == ActorType.GROUP],
    )


async def memberships_there(session: AsyncSession, domain: str) -> Sample:
    """Our accounts in communities hosted on `domain`."""
    return await _follow_sample(
        session,
        lambda f, t: [f.domain == "", on_domain(t.domain, domain), t.actor_type == ActorType.GROUP],
    )


async def replies_to(session: AsyncSession, domain: str) -> Sample:
    """Local posts replying to posts from `domain`: threads that would lose their start."""
    parent = aliased(Post)
    author = aliased(Account)
    base = (
        select(Post.id, Post.content_source, author)
        .join(parent, parent.id == Post.in_reply_to_id)
        .join(author, author.id == parent.account_id)
        .where(Post.local.is_(True), on_domain(author.domain, domain))
    )
    count = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = await session.execute(base.order_by(Post.id.desc()).limit(EXAMPLES))
    examples = tuple(
        f"post {post_id} replying to @{account.acct}: {_snippet(text)}"
        for post_id, text, account in rows
    )
    return Sample(int(count or 0), examples)


def _snippet(text: str, size: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


async def known_accounts(session: AsyncSession, domain: str) -> int:
    stmt = select(func.count()).select_from(Account).where(on_domain(Account.domain, domain))
    return int(await session.scalar(stmt) or 0)


# --- blocklist subscriptions ---------------------------------------------------------------


async def subscriptions(session: AsyncSession) -> list[BlocklistSubscription]:
    stmt = select(BlocklistSubscription).order_by(BlocklistSubscription.created_at)
    return list((await session.scalars(stmt)).all())


async def subscription(session: AsyncSession, sub_id: int) -> BlocklistSubscription | None:
    return await session.get(BlocklistSubscription, sub_id)


async def subscription_by_url(session: AsyncSession, url: str) -> BlocklistSubscription | None:
    stmt = select(BlocklistSubscription).where(BlocklistSubscription.url == url)
    return (await session.scalars(stmt)).first()


async def add_subscription(
    session: AsyncSession, url: str, *, refresh_hours: int, now: datetime
) -> BlocklistSubscription:
    row = BlocklistSubscription(
        url=url, refresh_hours=refresh_hours, next_fetch_at=now, pending=None, created_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def delete_subscription(session: AsyncSession, sub_id: int) -> None:
    """Its policies stay (the foreign key sets their subscription_id NULL): they become the
    admin's own, so ending a subscription never silently lifts a suspension."""
    await session.execute(
        update(DomainPolicy)
        .where(DomainPolicy.subscription_id == sub_id)
        .values(subscription_id=None)
    )
    await session.execute(delete(BlocklistSubscription).where(BlocklistSubscription.id == sub_id))


async def due_subscriptions(session: AsyncSession, now: datetime) -> list[int]:
    stmt = (
        select(BlocklistSubscription.id)
        .where(
            BlocklistSubscription.enabled.is_(True),
            or_(
                BlocklistSubscription.next_fetch_at.is_(None),
                BlocklistSubscription.next_fetch_at <= now,
            ),
        )
        .order_by(BlocklistSubscription.next_fetch_at)
    )
    return list((await session.scalars(stmt)).all())


async def policies_of(session: AsyncSession, sub_id: int) -> list[DomainPolicy]:
    stmt = select(DomainPolicy).where(DomainPolicy.subscription_id == sub_id)
    return list((await session.scalars(stmt.order_by(DomainPolicy.domain))).all())


# --- the public list -----------------------------------------------------------------------


async def visibility(session: AsyncSession) -> str | None:
    return await repo.get_setting(session, VISIBILITY_KEY)


async def set_visibility(session: AsyncSession, value: str) -> None:
    await repo.set_setting(session, VISIBILITY_KEY, value)
