"""Federation health: inbox rejection counts, per-domain delivery state, queue statistics.

Every query aggregates (GROUP BY, one statement per figure) so a dashboard over thousands of
domains costs a handful of statements, never one per domain.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kizuna.storage import queue
from kizuna.storage.lifecycles import DELIVERY
from kizuna.storage.models import Account, Delivery, Follow, InboxRejection, PeerDomain
from kizuna.storage.states import DeliveryState, FollowState

FINISHED_FAILED = (DeliveryState.FAILED, DeliveryState.GONE)
PURGED = "purged by admin"


def _postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


# -- inbox rejections and receipts ---------------------------------------------------------


async def add_rejections(
    session: AsyncSession, counts: Mapping[tuple[datetime, str, str], int]
) -> None:
    """Add counts per (bucket, domain, reason): one upsert statement for the whole batch, so
    several processes flushing into the same bucket add up instead of overwriting."""
    if not counts:
        return
    rows = [
        {"bucket": bucket, "domain": domain[:255], "reason": reason[:32], "count": n}
        for (bucket, domain, reason), n in sorted(counts.items())
    ]
    insert = pg_insert if _postgres(session) else sqlite_insert
    stmt = insert(InboxRejection)
    stmt = stmt.on_conflict_do_update(
        index_elements=["bucket", "domain", "reason"],
        set_={"count": InboxRejection.count + stmt.excluded["count"]},
    )
    await session.execute(stmt, rows)


async def delete_rejections_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(InboxRejection).where(InboxRejection.bucket < cutoff))


async def note_inbox_receipts(
    session: AsyncSession, latest: Mapping[str, datetime], now: datetime
) -> None:
    """peer_domains.last_inbox_at = the later of the stored time and `latest[domain]`."""
    if not latest:
        return
    rows = [
        {"domain": d[:255], "updated_at": now, "unavailable": False, "last_inbox_at": at}
        for d, at in sorted(latest.items())
    ]
    insert = pg_insert if _postgres(session) else sqlite_insert
    await session.execute(
        insert(PeerDomain).on_conflict_do_nothing(index_elements=["domain"]), rows
    )
    stmt = (
        update(PeerDomain)
        .where(
            PeerDomain.domain == bindparam("d"),
            or_(PeerDomain.last_inbox_at.is_(None), PeerDomain.last_inbox_at < bindparam("at")),
        )
        .values(last_inbox_at=bindparam("at"))
    )
    # Core executemany on the connection: one statement compiled once for every domain.
    connection = await session.connection()
    await connection.execute(stmt, [{"d": r["domain"], "at": r["last_inbox_at"]} for r in rows])


async def rejection_reasons(session: AsyncSession, since: datetime) -> dict[str, int]:
    stmt = (
        select(InboxRejection.reason, func.sum(InboxRejection.count))
        .where(InboxRejection.bucket >= since)
        .group_by(InboxRejection.reason)
    )
    return {reason: int(n or 0) for reason, n in (await session.execute(stmt)).all()}


async def top_rejected_domains(
    session: AsyncSession, since: datetime, limit: int = 10
) -> list[tuple[str, int]]:
    total = func.sum(InboxRejection.count).label("total")
    stmt = (
        select(InboxRejection.domain, total)
        .where(InboxRejection.bucket >= since)
        .group_by(InboxRejection.domain)
        .order_by(total.desc(), InboxRejection.domain)
        .limit(limit)
    )
    return [(domain, int(n or 0)) for domain, n in (await session.execute(stmt)).all()]


async def rejections_by_domain(
    session: AsyncSession, since: datetime, domains: Collection[str]
) -> dict[str, int]:
    if not domains:
        return {}
    stmt = (
        select(InboxRejection.domain, func.sum(InboxRejection.count))
        .where(InboxRejection.bucket >= since, InboxRejection.domain.in_(list(domains)))
        .group_by(InboxRejection.domain)
    )
    return {domain: int(n or 0) for domain, n in (await session.execute(stmt)).all()}


# -- the delivery queue ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSummary:
    pending: int
    due: int  # pending and due now
    retrying: int  # pending after at least one failed attempt


async def queue_summary(session: AsyncSession, now: datetime) -> QueueSummary:
    stmt = select(
        func.count(),
        func.sum(case((Delivery.next_attempt_at <= now, 1), else_=0)),
        func.sum(case((Delivery.attempts > 0, 1), else_=0)),
    ).where(Delivery.state == DeliveryState.PENDING)
    pending, due, retrying = (await session.execute(stmt)).one()
    return QueueSummary(pending=int(pending or 0), due=int(due or 0), retrying=int(retrying or 0))


async def outcomes_since(session: AsyncSession, since: datetime) -> dict[DeliveryState, int]:
    """Finished deliveries by state (delivered, failed, gone) since `since`."""
    stmt = (
        select(Delivery.state, func.count())
        .where(Delivery.finished_at >= since, Delivery.state != DeliveryState.PENDING)
        .group_by(Delivery.state)
    )
    return {state: int(n) for state, n in (await session.execute(stmt)).all()}


def _latency_seconds(session: AsyncSession) -> ColumnElement[Any]:
    if _postgres(session):
        return func.extract("epoch", Delivery.finished_at - Delivery.created_at)
    # SQLite keeps UTC timestamps as text; julianday() reads them (fractions included).
    return cast(
        (func.julianday(Delivery.finished_at) - func.julianday(Delivery.created_at)) * 86400.0,
        Float,
    )


async def latency_percentiles(
    session: AsyncSession, since: datetime, quantiles: Sequence[float]
) -> list[float | None]:
    """Seconds from queueing to delivery at each quantile (nearest rank), delivered rows
    finished since `since`; None without any."""
    latency = _latency_seconds(session)
    delivered = and_(Delivery.state == DeliveryState.DELIVERED, Delivery.finished_at >= since)
    if _postgres(session):
        stmt = select(
            *(func.percentile_disc(q).within_group(latency.asc()) for q in quantiles)
        ).where(delivered)
        row = (await session.execute(stmt)).one()
        return [None if v is None else float(v) for v in row]
    # SQLite has no percentile function: count, then one ordered OFFSET per quantile.
    total = int(await session.scalar(select(func.count()).where(delivered)) or 0)
    result: list[float | None] = []
    for q in quantiles:
        if total == 0:
            result.append(None)
            continue
        rank = max(1, math.ceil(q * total))
        stmt = select(latency).where(delivered).order_by(latency).offset(rank - 1).limit(1)
        value = await session.scalar(stmt)
        result.append(None if value is None else max(0.0, float(value)))
    return result


# -- per domain --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainState:
    domain: str
    software: str | None
    unavailable: bool
    failing_since: datetime | None
    next_probe_at: datetime | None
    last_success_at: datetime | None
    last_inbox_at: datetime | None
    delivered: int  # finished since the window start
    failed: int  # failed or gone since the window start


async def domain_states(
    session: AsyncSession, since: datetime, search: str = ""
) -> list[DomainState]:
    """Every known domain (a peer_domains row or a remote account) matching `search`, with
    its peer row and its finished deliveries since `since`: three scans, joined once."""
    names = union(
        select(PeerDomain.domain.label("domain")),
        select(Account.domain.label("domain")).where(Account.domain != ""),
    ).subquery()
    outcomes = (
        select(
            Delivery.domain.label("domain"),
            func.sum(case((Delivery.state == DeliveryState.DELIVERED, 1), else_=0)).label(
                "delivered"
            ),
            func.sum(case((Delivery.state.in_(FINISHED_FAILED), 1), else_=0)).label("failed"),
        )
        .where(Delivery.finished_at >= since, Delivery.state != DeliveryState.PENDING)
        .group_by(Delivery.domain)
        .subquery()
    )
    stmt = (
        select(names.c.domain, PeerDomain, outcomes.c.delivered, outcomes.c.failed)
        .select_from(names)
        .outerjoin(PeerDomain, PeerDomain.domain == names.c.domain)
        .outerjoin(outcomes, outcomes.c.domain == names.c.domain)
    )
    if search:
        stmt = stmt.where(names.c.domain.contains(search.lower(), autoescape=True))
    states = []
    for domain, peer, delivered, failed in (await session.execute(stmt)).all():
        states.append(
            DomainState(
                domain=domain,
                software=peer.software if peer else None,
                unavailable=bool(peer and peer.unavailable),
                failing_since=peer.failing_since if peer else None,
                next_probe_at=peer.next_probe_at if peer else None,
                last_success_at=peer.last_success_at if peer else None,
                last_inbox_at=peer.last_inbox_at if peer else None,
                delivered=int(delivered or 0),
                failed=int(failed or 0),
            )
        )
    return states


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainCounts:
    followers: int = 0  # their accounts following ours
    following: int = 0  # their accounts ours follow
    pending: int = 0
    retrying: int = 0


async def domain_counts(session: AsyncSession, domains: Collection[str]) -> dict[str, DomainCounts]:
    """Follow and queue counts for a page of domains: three GROUP BY statements."""
    wanted = list(domains)
    if not wanted:
        return {}
    follower, target = aliased(Account), aliased(Account)
    accepted = Follow.state == FollowState.ACCEPTED
    followers_stmt = (
        select(follower.domain, func.count())
        .select_from(Follow)
        .join(follower, follower.id == Follow.account_id)
        .join(target, target.id == Follow.target_account_id)
        .where(accepted, follower.domain.in_(wanted), target.domain == "")
        .group_by(follower.domain)
    )
    following_stmt = (
        select(target.domain, func.count())
        .select_from(Follow)
        .join(follower, follower.id == Follow.account_id)
        .join(target, target.id == Follow.target_account_id)
        .where(accepted, target.domain.in_(wanted), follower.domain == "")
        .group_by(target.domain)
    )
    queue_stmt = (
        select(
            Delivery.domain,
            func.count(),
            func.sum(case((Delivery.attempts > 0, 1), else_=0)),
        )
        .where(Delivery.state == DeliveryState.PENDING, Delivery.domain.in_(wanted))
        .group_by(Delivery.domain)
    )
    followers = {d: int(n) for d, n in (await session.execute(followers_stmt)).all()}
    following = {d: int(n) for d, n in (await session.execute(following_stmt)).all()}
    queued = {d: (int(n), int(r or 0)) for d, n, r in (await session.execute(queue_stmt)).all()}
    return {
        d: DomainCounts(
            followers=int(followers.get(d, 0)),
            following=int(following.get(d, 0)),
            pending=queued.get(d, (0, 0))[0],
            retrying=queued.get(d, (0, 0))[1],
        )
        for d in wanted
    }


async def retry_domain(session: AsyncSession, domain: str, now: datetime) -> int:
    """Make the domain's pending deliveries due now and close its circuit breaker."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.domain == domain,
            Delivery.state.in_(DELIVERY.sources(DeliveryState.PENDING)),
            queue.unleased(now),
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(PeerDomain)
        .where(PeerDomain.domain == domain)
        .values(unavailable=False, failing_since=None, next_probe_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        queue.announce_due(session)
    return count


async def purge_domain(session: AsyncSession, domain: str, now: datetime) -> int:
    """Mark the domain's pending deliveries failed ("purged by admin"): visibly failed in
    each post's delivery view, never silently dropped."""
    return await queue.fail_pending(session, Delivery.domain == domain, error=PURGED, now=now)


async def domain_known(session: AsyncSession, domain: str) -> bool:
    for stmt in (
        select(PeerDomain.domain).where(PeerDomain.domain == domain),
        select(Account.id).where(Account.domain == domain).limit(1),
        select(Delivery.id).where(Delivery.domain == domain).limit(1),
    ):
        if (await session.execute(stmt)).first() is not None:
            return True
    return False
