"""The instance audit log: one row per moderation action, written in the action's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kizuna.storage.models import AuditLogEntry


async def record(
    session: AsyncSession,
    *,
    account_id: int | None,
    action: str,
    target_type: str,
    target: str,
    now: datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """`account_id` None = the system (e.g. a blocklist subscription applying a change)."""
    entry = AuditLogEntry(
        account_id=account_id,
        action=action[:48],
        target_type=target_type[:32],
        target=target[:2048],
        reason=reason,
        data=data,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def recent(
    session: AsyncSession, *, limit: int = 50, max_id: int | None = None, action: str | None = None
) -> list[AuditLogEntry]:
    stmt = select(AuditLogEntry).options(selectinload(AuditLogEntry.account))
    if max_id is not None:
        stmt = stmt.where(AuditLogEntry.id < max_id)
    if action:
        stmt = stmt.where(AuditLogEntry.action.startswith(action, autoescape=True))
    stmt = stmt.order_by(AuditLogEntry.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())
