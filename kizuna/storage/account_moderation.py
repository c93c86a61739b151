"""Queries for instance moderation of accounts: warnings, sessions, suspension, purge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from kizuna.activitypub.vocab import ActorType
from kizuna.storage.models import (
    Account,
    AccountWarning,
    AuditLogEntry,
    Follow,
    LoginSession,
    Notification,
    Post,
    User,
)
from kizuna.storage.repo import like_pattern
from kizuna.storage.states import Role

PAGE_SIZE = 40
STATES = ("", "local", "remote", "limited", "suspended", "pending")


async def user_for_account(session: AsyncSession, account_id: int) -> User | None:
    stmt = select(User).where(User.account_id == account_id).options(joinedload(User.account))
    return (await session.scalars(stmt)).first()


async def count_admins(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(User).where(User.role == Role.ADMIN)
    return int(await session.scalar(stmt) or 0)


async def revoke_sessions(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def add_warning(session: AsyncSession, warning: AccountWarning) -> AccountWarning:
    session.add(warning)
    await session.flush()
    return warning


async def warnings_for(
    session: AsyncSession, account_id: int, *, limit: int = PAGE_SIZE
) -> list[AccountWarning]:
    stmt = (
        select(AccountWarning)
        .where(AccountWarning.account_id == account_id)
        .order_by(AccountWarning.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def search(
    session: AsyncSession, text: str, *, state: str, max_id: int | None, limit: int = PAGE_SIZE
) -> list[tuple[Account, User | None]]:
    """Local and remote accounts (not the instance actor), newest first, with their user."""
    stmt = (
        select(Account, User)
        .outerjoin(User, User.account_id == Account.id)
        .where(Account.actor_type != ActorType.APPLICATION)
    )
    text = text.strip().lstrip("@").casefold()
    if text:
        username, _, domain = text.partition("@")
        pattern = like_pattern(username)
        stmt = stmt.where(
            or_(
                Account.username_key.like(pattern, escape="\\"),
                func.lower(Account.display_name).like(pattern, escape="\\"),
            )
        )
        if domain:
            stmt = stmt.where(Account.domain.like(like_pattern(domain), escape="\\"))
    if state == "local":
        stmt = stmt.where(Account.domain == "")
    elif state == "remote":
        stmt = stmt.where(Account.domain != "")
    elif state == "limited":
        stmt = stmt.where(Account.silenced_at.is_not(None))
    elif state == "suspended":
        stmt = stmt.where(Account.suspended_at.is_not(None))
    elif state == "pending":
        stmt = stmt.where(User.approved.is_(False))
    if max_id is not None:
        stmt = stmt.where(Account.id < max_id)
    stmt = stmt.order_by(Account.id.desc()).limit(limit)
    return [(account, user) for account, user in (await session.execute(stmt)).all()]


async def follows_of(session: AsyncSession, account_id: int) -> list[tuple[Follow, Account]]:
    """Follows made by `account_id`, with each followed account."""
    stmt = (
        select(Follow, Account)
        .join(Account, Account.id == Follow.target_account_id)
        .where(Follow.account_id == account_id)
    )
    return [(follow, target) for follow, target in (await session.execute(stmt)).all()]


async def delete_follows(session: AsyncSession, account_id: int) -> None:
    """Both directions."""
    await session.execute(
        delete(Follow).where(
            or_(Follow.account_id == account_id, Follow.target_account_id == account_id)
        )
    )


async def due_for_purge(session: AsyncSession, before: datetime, *, limit: int = 20) -> list[int]:
    """Local accounts suspended before `before` and not purged yet."""
    stmt = (
        select(Account.id)
        .where(
            Account.domain == "",
            Account.suspended_at.is_not(None),
            Account.suspended_at < before,
            Account.deleted_at.is_(None),
        )
        .order_by(Account.suspended_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def purge_content(session: AsyncSession, account_id: int) -> None:
    """What a purge removes besides follows: posts, notifications both ways, the user."""
    await session.execute(delete(Post).where(Post.account_id == account_id))
    await session.execute(
        delete(Notification).where(
            or_(Notification.account_id == account_id, Notification.from_account_id == account_id)
        )
    )
    await session.execute(delete(User).where(User.account_id == account_id))


async def last_suspension_entry(session: AsyncSession, target: str) -> AuditLogEntry | None:
    """The latest account.suspend / account.unsuspend row about `target` (an account uri)."""
    stmt = (
        select(AuditLogEntry)
        .where(
            AuditLogEntry.target == target,
            AuditLogEntry.action.in_(("account.suspend", "account.unsuspend")),
        )
        .order_by(AuditLogEntry.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()
