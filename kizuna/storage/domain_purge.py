"""Removing what a suspended domain left here, a batch at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kizuna.storage import queue
from kizuna.storage.models import (
    Account,
    Delivery,
    DomainPolicy,
    Follow,
    Notification,
    Post,
    Reaction,
)
from kizuna.storage.repo import on_domain
from kizuna.storage.states import Severity


async def unpurged_suspensions(session: AsyncSession) -> list[str]:
    stmt = select(DomainPolicy.domain).where(
        DomainPolicy.severity == Severity.SUSPEND, DomainPolicy.purged_at.is_(None)
    )
    return list((await session.scalars(stmt)).all())


async def purge_batch(session: AsyncSession, domain: str, *, batch: int) -> int:
    """Delete up to `batch` rows of each kind for the domain; returns how many went."""
    accounts = select(Account.id).where(on_domain(Account.domain, domain))
    removed = 0
    for model, column in (
        (Post, Post.account_id),
        (Reaction, Reaction.account_id),
        (Notification, Notification.from_account_id),
    ):
        ids = select(model.id).where(column.in_(accounts)).limit(batch)
        chosen = list((await session.scalars(ids)).all())
        if chosen:
            await session.execute(delete(model).where(model.id.in_(chosen)))
            removed += len(chosen)
    follow_ids = (
        select(Follow.id)
        .where(or_(Follow.account_id.in_(accounts), Follow.target_account_id.in_(accounts)))
        .limit(batch)
    )
    chosen = list((await session.scalars(follow_ids)).all())
    if chosen:
        await session.execute(delete(Follow).where(Follow.id.in_(chosen)))
        removed += len(chosen)
    return removed


async def fail_pending_deliveries(session: AsyncSession, domain: str, now: datetime) -> int:
    """Queued deliveries to the domain end visibly failed (one in flight fails in its worker,
    which the policy refuses)."""
    return await queue.fail_pending(
        session,
        on_domain(Delivery.domain, domain),
        error=f"not delivered: {domain} is suspended by this server",
        now=now,
    )


async def mark_purged(session: AsyncSession, domain: str, now: datetime) -> None:
    await session.execute(
        update(DomainPolicy)
        .where(DomainPolicy.domain == domain, DomainPolicy.severity == Severity.SUSPEND)
        .values(purged_at=now)
    )
