"""Domain policies, the allow-list and the federation mode, as stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kizuna.storage import repo
from kizuna.storage.ids import new_id
from kizuna.storage.models import AllowedDomain, DomainPolicy
from kizuna.storage.states import Severity

MODE_KEY = "federation_mode"  # "open" | "allowlist"
VERSION_KEY = "domain_policy_version"  # bumped on every change; other processes reload


async def all_policies(session: AsyncSession) -> list[DomainPolicy]:
    return list((await session.scalars(select(DomainPolicy).order_by(DomainPolicy.domain))).all())


async def get_policy(session: AsyncSession, domain: str) -> DomainPolicy | None:
    return await session.get(DomainPolicy, domain)


async def upsert_policy(
    session: AsyncSession,
    domain: str,
    *,
    now: datetime,
    severity: str,
    reject_media: bool = False,
    reject_reports: bool = False,
    public_comment: str = "",
    private_comment: str = "",
    obfuscate: bool = False,
    subscription_id: int | None = None,
) -> DomainPolicy:
    """Create or replace the policy for `domain` (already normalised); a (new) suspension is
    queued for the background purge."""
    row = await session.get(DomainPolicy, domain)
    if row is None:
        row = DomainPolicy(domain=domain, created_at=now)
        session.add(row)
    if severity == Severity.SUSPEND and row.severity != Severity.SUSPEND:
        row.purged_at = None
    row.severity = Severity(severity)
    row.reject_media = reject_media
    row.reject_reports = reject_reports
    row.public_comment = public_comment
    row.private_comment = private_comment
    row.obfuscate = obfuscate
    row.subscription_id = subscription_id
    row.updated_at = now
    await bump_version(session)
    return row


async def delete_policy(session: AsyncSession, domain: str) -> bool:
    result = await session.execute(delete(DomainPolicy).where(DomainPolicy.domain == domain))
    await bump_version(session)
    return bool(getattr(result, "rowcount", 0))


async def allowed_domains(session: AsyncSession) -> list[AllowedDomain]:
    rows = await session.scalars(select(AllowedDomain).order_by(AllowedDomain.domain))
    return list(rows.all())


async def allow(session: AsyncSession, domain: str, comment: str, now: datetime) -> None:
    if await session.get(AllowedDomain, domain) is None:
        session.add(AllowedDomain(domain=domain, comment=comment, created_at=now))
    await bump_version(session)


async def disallow(session: AsyncSession, domain: str) -> None:
    await session.execute(delete(AllowedDomain).where(AllowedDomain.domain == domain))
    await bump_version(session)


async def mode(session: AsyncSession) -> str:
    return await repo.get_setting(session, MODE_KEY) or "open"


async def set_mode(session: AsyncSession, value: str) -> None:
    await repo.set_setting(session, MODE_KEY, value)
    await bump_version(session)


async def version(session: AsyncSession) -> str:
    return await repo.get_setting(session, VERSION_KEY) or ""


async def bump_version(session: AsyncSession) -> None:
    """Call after any change to policies, the allow-list or the mode (same transaction)."""
    await session.flush()
    await repo.set_setting(session, VERSION_KEY, str(new_id()))
