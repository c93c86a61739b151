"""The delivery queue: outbox activities, one delivery row per target inbox, leases; and the
received activities' queue. Rows change state only as kizuna.storage.lifecycles allows."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kizuna.storage.engine import announce
from kizuna.storage.lifecycles import DELIVERY, INBOX, InboxState, inbox_state
from kizuna.storage.models import Account, Delivery, InboxActivity, OutboxActivity, PeerDomain
from kizuna.storage.states import DeliveryState

MAX_INBOX_ATTEMPTS = 5

# Delivery.priority, claimed lowest first (ix_deliveries_due leads with it), oldest first within.
# INTERACTIVE: what a person just did and is waiting to see arrive: posts, replies, edits,
# deletes of a post, boosts, reactions, follows and their answers, blocks, reports.
INTERACTIVE = 0
# RETRY: an attempt failed once (a slow or down peer); it waits behind what is new.
RETRY = 1
# BULK: mass fan-out nobody watches arrive: a purged account's Delete, moderation's actor
# Updates, the Rejects of a suspended account's follows (Mastodon's LowPriorityDeliveryWorker).
# Claimed only when nothing above is due; a retried bulk row stays bulk.
BULK = 2
# How many rows due a per-domain claim looks at, per row wanted: the window that lets it
# skip past a backlog to one server without reading every row due.
CLAIM_SCAN = 4


class DeliveriesDue:
    """Announced to the commit listeners by a transaction that made deliveries due (new rows,
    or waiting ones due now): once it commits, the delivery workers wake (kizuna.realtime),
    in this process and, through PostgreSQL, in the others. The workers' only wake-up."""

    __slots__ = ()


DELIVERIES_DUE = DeliveriesDue()


def announce_due(session: AsyncSession) -> None:
    announce(session, DELIVERIES_DUE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedDelivery:
    delivery: Delivery
    activity: OutboxActivity
    sender: Account


async def add_outbox_activity(
    session: AsyncSession,
    activity: OutboxActivity,
    targets: Iterable[tuple[str, str]],
    now: datetime,
    *,
    priority: int = INTERACTIVE,
) -> int:
    """Store the activity and a pending delivery per (inbox_url, domain); returns their count.

    Called inside the caller's transaction, so a post and its deliveries commit together.
    """
    session.add(activity)
    await session.flush()
    rows = [
        {
            "outbox_activity_id": activity.id,
            "inbox_url": inbox,
            "domain": domain,
            "state": DELIVERY.initial,
            "priority": priority,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for inbox, domain in dict.fromkeys(targets)
    ]
    if rows:
        # Core executemany: thousands of followers' inboxes without an ORM object each.
        await session.execute(insert(Delivery), rows)
        announce_due(session)
    return len(rows)


def unleased(now: datetime) -> ColumnElement[bool]:
    """Not leased by a worker right now (a leased row's outcome is the worker's to write)."""
    return or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)


async def fail_pending(
    session: AsyncSession, where: ColumnElement[bool], *, error: str, now: datetime
) -> int:
    """Pending, unleased deliveries matching `where` end failed with `error`: visibly failed
    in each post's delivery view, never silently dropped. Returns how many."""
    result = await session.execute(
        update(Delivery)
        .where(where, Delivery.state.in_(DELIVERY.sources(DeliveryState.FAILED)), unleased(now))
        .values(
            state=DeliveryState.FAILED,
            last_error=error,
            finished_at=now,
            lease_until=None,
            lease_owner=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_deliveries(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    per_domain: int | None = None,
    skip_domains: Collection[str] = (),
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries for `owner` (a token unique to this claim).

    One conditional UPDATE: a row another worker leased meanwhile fails the re-checked WHERE
    (PostgreSQL re-evaluates it on the locked row; SQLite runs the statement under its write
    lock), so no delivery is claimed twice. SKIP LOCKED spares PostgreSQL the waiting.

    `per_domain`: at most that many rows of any one server, and none of `skip_domains` (the
    servers the caller is busy with): rows the caller could not start soon would sit leased
    while a backlog to one server fills the claim ahead of everyone else's rows.
    """
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    order = (Delivery.priority, Delivery.next_attempt_at, Delivery.id)
    wanted = [
        Delivery.state == DeliveryState.PENDING,
        Delivery.next_attempt_at <= now,
        unleased(now),
    ]
    if skip_domains:
        wanted.append(Delivery.domain.not_in(sorted(skip_domains)))
    if per_domain is None:
        due = select(Delivery.id).where(*wanted).order_by(*order).limit(limit)
        if postgres:
            due = due.with_for_update(skip_locked=True)
    else:
        # A window function over the first rows due only: its cost stays bounded however
        # large the backlog (PostgreSQL locks the window's rows, not the ranking's).
        first = select(*order, Delivery.domain).where(*wanted).order_by(*order)
        first = first.limit(limit * CLAIM_SCAN)
        if postgres:
            first = first.with_for_update(skip_locked=True)
        window = first.subquery()
        keys = (window.c.priority, window.c.next_attempt_at, window.c.id)
        rank = func.row_number().over(partition_by=window.c.domain, order_by=keys)
        ranked = select(*keys, rank.label("rank")).subquery()
        due = (
            select(ranked.c.id)
            .where(ranked.c.rank <= per_domain)
            .order_by(ranked.c.priority, ranked.c.next_attempt_at, ranked.c.id)
            .limit(limit)
        )
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()), unleased(now))
        .values(lease_until=lease_until, lease_owner=owner)
        .execution_options(synchronize_session=False)
    )
    stmt = (
        select(Delivery, OutboxActivity, Account)
        .join(OutboxActivity, OutboxActivity.id == Delivery.outbox_activity_id)
        .join(Account, Account.id == OutboxActivity.account_id)
        .where(Delivery.lease_owner == owner)
    )
    return [
        ClaimedDelivery(delivery=d, activity=a, sender=s)
        for d, a, s in (await session.execute(stmt)).all()
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    delivery: Delivery  # as claimed
    state: DeliveryState
    status: int | None
    error: str | None
    next_attempt_at: datetime | None = None


async def settle_deliveries(
    session: AsyncSession, settlements: Sequence[Settlement], now: datetime
) -> None:
    """Record a batch's outcomes in one executemany UPDATE (by primary key)."""
    rows: list[dict[str, object]] = []
    for item in sorted(settlements, key=lambda s: s.delivery.id):
        row: dict[str, object] = {
            "id": item.delivery.id,
            "state": DELIVERY.move(item.delivery.state, item.state),
            "attempts": item.delivery.attempts + 1,
            "last_status": item.status,
            "last_error": item.error[:2000] if item.error else None,
            "lease_until": None,
            "lease_owner": None,
            "next_attempt_at": item.next_attempt_at or item.delivery.next_attempt_at,
            "priority": (
                max(item.delivery.priority, RETRY)
                if item.state == DeliveryState.PENDING
                else item.delivery.priority
            ),
            "finished_at": None if item.state == DeliveryState.PENDING else now,
        }
        rows.append(row)
    if rows:
        await session.execute(update(Delivery), rows)


async def defer_deliveries(
    session: AsyncSession, deliveries: Sequence[Delivery], until: datetime
) -> None:
    """Leave deliveries untried while their domain is unavailable (no attempt counted)."""
    rows = [
        {
            "id": d.id,
            "state": DELIVERY.move(d.state, DeliveryState.PENDING),
            "next_attempt_at": until,
            "lease_until": None,
            "lease_owner": None,
        }
        for d in deliveries
    ]
    if rows:
        await session.execute(update(Delivery), rows)


async def release_deliveries(session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
    """Give leases back untried (a stopping worker): due again at once for any worker, no
    attempt counted. Only while still held by the claims that took them."""
    if not deliveries:
        return
    await session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_([d.id for d in deliveries]),
            Delivery.lease_owner.in_({d.lease_owner for d in deliveries}),
        )
        .values(lease_until=None, lease_owner=None)
        .execution_options(synchronize_session=False)
    )


async def peers(
    session: AsyncSession, domains: Iterable[str], now: datetime
) -> dict[str, PeerDomain]:
    """The peer rows for these domains, created where missing."""
    wanted = set(domains)
    found: dict[str, PeerDomain] = {
        row.domain: row
        for row in (
            await session.scalars(select(PeerDomain).where(PeerDomain.domain.in_(wanted)))
        ).all()
    }
    for domain in sorted(wanted - found.keys()):  # one order for every worker: no deadlock
        found[domain] = await peer(session, domain, now)
    return found


async def peer(session: AsyncSession, domain: str, now: datetime) -> PeerDomain:
    row = await session.get(PeerDomain, domain)
    if row is not None:
        return row
    try:
        async with session.begin_nested():
            row = PeerDomain(domain=domain, updated_at=now, unavailable=False)
            session.add(row)
    except IntegrityError:
        row = await session.get(PeerDomain, domain)
        assert row is not None
    return row


async def delivery_counts(
    session: AsyncSession, post_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Per post: how many target inboxes are in each state (for the author's view)."""
    result: dict[int, dict[str, int]] = {post_id: {} for post_id in post_ids}
    if not post_ids:
        return result
    stmt = (
        select(OutboxActivity.post_id, Delivery.state, func.count())
        .join(Delivery, Delivery.outbox_activity_id == OutboxActivity.id)
        .where(OutboxActivity.post_id.in_(post_ids), OutboxActivity.activity_type == "Create")
        .group_by(OutboxActivity.post_id, Delivery.state)
    )
    for post_id, state, count in (await session.execute(stmt)).all():
        if post_id is not None:
            result[post_id][state] = int(count)
    return result


async def failed_deliveries(session: AsyncSession, post_id: int) -> list[Delivery]:
    stmt = (
        select(Delivery)
        .join(OutboxActivity, OutboxActivity.id == Delivery.outbox_activity_id)
        .where(
            OutboxActivity.post_id == post_id,
            or_(
                Delivery.state.in_((DeliveryState.FAILED, DeliveryState.GONE)),
                and_(Delivery.state == DeliveryState.PENDING, Delivery.attempts > 0),
            ),
        )
        .order_by(Delivery.domain)
    )
    return list((await session.scalars(stmt)).all())


async def sent_activity(session: AsyncSession, activity_id: str) -> OutboxActivity | None:
    """The activity we sent under this id, as sent (served to those who fetch it)."""
    stmt = select(OutboxActivity).where(OutboxActivity.activity_id == activity_id)
    return (await session.scalars(stmt)).first()


async def claim_inbox(
    session: AsyncSession, *, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[InboxActivity]:
    """Lease received activities for processing, oldest first (same claim as deliveries):
    queued ones due, and leased ones whose lease ran out (INBOX.sources(LEASED))."""
    free = or_(InboxActivity.lease_until.is_(None), InboxActivity.lease_until < now)
    due = (
        select(InboxActivity.id)
        .where(
            InboxActivity.processed_at.is_(None), InboxActivity.attempts < MAX_INBOX_ATTEMPTS, free
        )
        .order_by(InboxActivity.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    await session.execute(
        update(InboxActivity)
        .where(InboxActivity.id.in_(due.scalar_subquery()), free)
        .values(lease_until=lease_until, lease_owner=owner, attempts=InboxActivity.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    stmt = (
        select(InboxActivity).where(InboxActivity.lease_owner == owner).order_by(InboxActivity.id)
    )
    return list((await session.scalars(stmt)).all())


async def settle_inbox(
    session: AsyncSession,
    row: InboxActivity,
    *,
    now: datetime,
    error: str | None,
    retry_at: datetime | None = None,
) -> None:
    """`row` as claimed: done (processed, or refused for good with `error`), or retried not
    before `retry_at` (an expired lease is what makes a row claimable again)."""
    if retry_at is not None:
        state = InboxState.QUEUED
    else:
        state = InboxState.PROCESSED if error is None else InboxState.REFUSED
    INBOX.move(inbox_state(row), state)
    values: dict[str, object] = {"lease_until": retry_at, "lease_owner": None, "error": error}
    if retry_at is None:
        values["processed_at"] = now
    await session.execute(update(InboxActivity).where(InboxActivity.id == row.id).values(**values))


async def insert_inbox_batch(session: AsyncSession, rows: list[dict[str, object]]) -> set[str]:
    """Insert many received activities in one statement; returns the ids that were new.

    ON CONFLICT DO NOTHING … RETURNING (PostgreSQL, SQLite ≥ 3.35): a re-delivery costs
    no savepoint and no error, and the unique index still decides across processes.
    """
    if not rows:
        return set()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # executemany form: compiled once and cached, batched by SQLAlchemy's insertmanyvalues.
    stmt = (
        insert(InboxActivity)
        .on_conflict_do_nothing(index_elements=["activity_id"])
        .returning(InboxActivity.activity_id)
    )
    return set((await session.scalars(stmt, rows)).all())
