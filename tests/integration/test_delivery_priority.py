"""Priority delivery: a new post goes ahead of retries and bulk work, and past a server that
hangs; a worker that stops or dies mid-delivery loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from kizuna import background
from kizuna.federation.delivery import LEASE, PER_DOMAIN, DeliveryWorker
from kizuna.storage import queue
from kizuna.storage.models import Account, Delivery, Follow, OutboxActivity
from tests.integration.lab import Instance, Network
from tests.integration.web import make_user

SAFETY = 30  # seconds: only ever reached when the behaviour under test is broken


class Peer:
    """A remote server's inbox: records each activity id in arrival order; when `hold` is
    set, answers nothing until the test releases it (a server that hangs)."""

    def __init__(self, *, status: int = 202, hold: bool = False) -> None:
        self.status = status
        self.hold = hold
        self.seen: list[str] = []
        self.open = 0  # requests held right now
        self.arrived = asyncio.Event()
        self.released = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self.inbox)

    async def inbox(self, request: web.Request) -> web.Response:
        self.seen.append(json.loads(await request.read())["id"])
        self.arrived.set()
        if self.hold:
            self.open += 1
            try:
                await self.released.wait()
            finally:
                self.open -= 1
        return web.Response(status=self.status)


async def _start(network: Network, **overrides: object) -> tuple[Instance, Account]:
    # A long fetch timeout: a held request stays in flight for as long as the test needs.
    a = await network.start("a.test", fetch_timeout=120.0, **overrides)
    await make_user(a.services, "alice")
    await make_user(a.services, "dana", role="admin")
    (alice,) = [
        u.account for u in await a.services.accounts.list_users() if u.account.username == "alice"
    ]
    return a, alice


async def _follower(a: Instance, target: Account, domain: str, name: str = "zed") -> None:
    """name@domain follows `target`, its server with a shared inbox."""
    now = datetime.now(UTC)
    async with a.services.db.begin() as session:
        remote = Account(
            username=name,
            username_key=name,
            domain=domain,
            uri=f"https://{domain}/users/{name}",
            inbox_url=f"https://{domain}/users/{name}/inbox",
            shared_inbox_url=f"https://{domain}/inbox",
            created_at=now,
            updated_at=now,
        )
        session.add(remote)
        await session.flush()
        session.add(
            Follow(
                account_id=remote.id, target_account_id=target.id, state="accepted", created_at=now
            )
        )


async def _queue(a: Instance, sender: Account, domain: str, count: int, tag: str) -> list[str]:
    """`count` activities from `sender`, each to domain's shared inbox; returns their ids."""
    ids = [f"https://a.test/activities/{tag}/{n}" for n in range(count)]
    async with a.services.db.begin() as session:
        for activity_id in ids:
            doc = {"id": activity_id, "type": "Note", "actor": sender.uri}
            await a.services.outbox.enqueue(
                session, sender, doc, [(f"https://{domain}/inbox", domain)]
            )
    return ids


async def _rows(a: Instance) -> list[tuple[Delivery, OutboxActivity]]:
    async with a.services.db.begin() as session:
        stmt = (
            select(Delivery, OutboxActivity)
            .join(OutboxActivity, OutboxActivity.id == Delivery.outbox_activity_id)
            .order_by(Delivery.id)
        )
        return [(d, o) for d, o in (await session.execute(stmt)).all()]


async def _drain(worker: DeliveryWorker) -> None:
    for _ in range(20):
        if not await worker.run_single_cycle():
            return
    raise AssertionError("the queue never emptied")


def _watch(worker: DeliveryWorker, domain: str) -> asyncio.Event:
    """Set once a delivery to `domain` is recorded as delivered."""
    done = asyncio.Event()

    def settled(outcomes: Sequence[queue.Settlement]) -> None:
        if any(o.delivery.domain == domain and o.state == "delivered" for o in outcomes):
            done.set()

    worker.on_settled(settled)
    return done


# --- (a) order ------------------------------------------------------------------------------


async def test_new_post_is_claimed_before_retries_and_bulk_work(network: Network) -> None:
    a, alice = await _start(network)
    sink = Peer(status=500)
    await network.serve("sink.test", sink.app)
    await _follower(a, alice, "sink.test")
    worker = a.services.delivery
    # Retries: three activities the sink refused once.
    retries = await _queue(a, alice, "sink.test", 3, "retry")
    assert await worker.run_single_cycle() == 3
    # Bulk, newer than the retries: carol is suspended (an Update to her followers' servers)
    # and purged after the grace period (a Delete of her actor).
    await make_user(a.services, "carol")
    users = {u.account.username: u for u in await a.services.accounts.list_users()}
    dana, carol = users["dana"], users["carol"]
    await _follower(a, carol.account, "sink.test", "yan")
    moderation = a.services.account_moderation
    await moderation.act(dana, carol.account.id, "suspend")
    later = datetime.now(UTC) + timedelta(days=moderation.grace.days + 1)
    moderation.clock = lambda: later
    assert await moderation.run_once() == 1
    # The newest of all: alice posts.
    post = await a.services.posts.create(alice, "hello, right now")

    rows = await _rows(a)
    kinds = {o.activity_type: d.priority for d, o in rows if o.activity_type != "Note"}
    assert kinds == {"Update": queue.BULK, "Delete": queue.BULK, "Create": queue.INTERACTIVE}
    assert {d.priority for d, o in rows if o.activity_type == "Note"} == {queue.RETRY}

    sink.status = 202
    worker.clock = lambda: datetime.now(UTC) + timedelta(hours=1)  # the retries are due too
    worker.batch = 1
    sink.seen.clear()
    await _drain(worker)
    by_id = {o.activity_id: o.activity_type for _, o in rows}
    assert [by_id[i] for i in sink.seen] == ["Create", "Note", "Note", "Note", "Update", "Delete"]
    assert set(sink.seen[1:4]) == set(retries)
    assert [o.post_id for _, o in rows if o.activity_id == sink.seen[0]] == [post.id]


async def test_a_retried_bulk_delivery_stays_bulk(network: Network) -> None:
    a, alice = await _start(network)
    await network.serve("down.test", Peer(status=503).app)
    await _follower(a, alice, "down.test")
    async with a.services.db.begin() as session:
        doc = {"id": "https://a.test/activities/bulk", "type": "Delete", "actor": alice.uri}
        target = [("https://down.test/inbox", "down.test")]
        await a.services.outbox.enqueue(session, alice, doc, target, priority=queue.BULK)
    assert await a.services.delivery.run_single_cycle() == 1
    ((row, _),) = await _rows(a)
    assert (row.state, row.attempts, row.priority) == ("pending", 1, queue.BULK)


async def test_claim_skips_past_a_backlog_to_one_server(network: Network) -> None:
    a, alice = await _start(network)
    await _queue(a, alice, "busy.test", 3 * PER_DOMAIN, "backlog")
    await _queue(a, alice, "quiet.test", 1, "fresh")
    now = datetime.now(UTC)
    async with a.services.db.begin() as session:
        claimed = await queue.claim_deliveries(
            session, owner="one", now=now, lease_until=now + LEASE, limit=8, per_domain=PER_DOMAIN
        )
    domains = [c.delivery.domain for c in claimed]
    assert sorted(domains) == ["busy.test"] * PER_DOMAIN + ["quiet.test"]
    async with a.services.db.begin() as session:
        claimed = await queue.claim_deliveries(
            session,
            owner="two",
            now=now,
            lease_until=now + LEASE,
            limit=8,
            per_domain=PER_DOMAIN,
            skip_domains=["busy.test"],
        )
    assert claimed == []  # quiet.test's row is leased already; busy.test is skipped


# --- (b) a server that hangs ------------------------------------------------------------------


async def test_a_hanging_server_does_not_hold_back_a_new_post(network: Network) -> None:
    a, alice = await _start(network)
    hang, ok = Peer(hold=True), Peer()
    await network.serve("hang.test", hang.app)
    await network.serve("ok.test", ok.app)
    await _follower(a, alice, "ok.test")
    backlog = await _queue(a, alice, "hang.test", PER_DOMAIN + 2, "backlog")
    worker = a.services.delivery
    worker.stop_grace = SAFETY  # the held requests finish once released: record them
    delivered = _watch(worker, "ok.test")
    stop = asyncio.Event()
    running = asyncio.ensure_future(worker.run_forever(stop))
    try:
        await asyncio.wait_for(hang.arrived.wait(), SAFETY)
        post = await a.services.posts.create(alice, "not stuck behind hang.test")
        await asyncio.wait_for(delivered.wait(), SAFETY)
        # Recorded as delivered while hang.test still holds its requests, unanswered.
        assert hang.open > 0
        assert not hang.released.is_set()
        rows = await _rows(a)
        assert {(d.domain, d.state) for d, o in rows if o.post_id == post.id} == {
            ("ok.test", "delivered")
        }
        held = [d for d, o in rows if d.domain == "hang.test"]
        assert {(d.state, d.attempts) for d in held} == {("pending", 0)}
        assert any(d.lease_owner is not None for d in held)
    finally:
        hang.released.set()
        stop.set()
        await asyncio.wait_for(running, SAFETY)
    await _drain(worker)
    assert {d.state for d, _ in await _rows(a)} == {"delivered"}
    assert set(backlog) <= set(hang.seen)


# --- (c) stopping mid-delivery ----------------------------------------------------------------


async def test_stop_mid_delivery_then_a_later_worker_delivers_everything(
    network: Network,
) -> None:
    a, alice = await _start(network)
    hang, ok = Peer(hold=True), Peer()
    await network.serve("hang.test", hang.app)
    await network.serve("ok.test", ok.app)
    held = await _queue(a, alice, "hang.test", PER_DOMAIN + 2, "held")
    quick = await _queue(a, alice, "ok.test", 6, "quick")
    worker = a.services.delivery
    worker.stop_grace = 0  # let go of what is in flight at once
    stop = asyncio.Event()
    running = asyncio.ensure_future(worker.run_forever(stop))
    try:
        await asyncio.wait_for(hang.arrived.wait(), SAFETY)
        stop.set()
        await asyncio.wait_for(running, SAFETY)
        rows = await _rows(a)
        assert len(rows) == len(held) + len(quick)
        assert {d.state for d, _ in rows} <= {"delivered", "pending"}
        on_hang = [d for d, _ in rows if d.domain == "hang.test"]
        # Given back untried: no attempt counted, no lease left to wait out.
        assert {(d.state, d.attempts, d.lease_owner) for d in on_hang} == {("pending", 0, None)}
    finally:
        hang.released.set()
    later = DeliveryWorker(a.services.db, a.services.federation, base_url="https://a.test")
    await _drain(later)
    assert {d.state for d, _ in await _rows(a)} == {"delivered"}
    assert set(held) <= set(hang.seen)
    assert set(quick) <= set(ok.seen)


async def test_worker_cancelled_mid_delivery_then_its_rows_come_due_after_the_lease(
    network: Network,
) -> None:
    """A worker that dies writes nothing more: its leases lapse, then another delivers."""
    a, alice = await _start(network)
    hang = Peer(hold=True)
    await network.serve("hang.test", hang.app)
    held = await _queue(a, alice, "hang.test", 2, "held")
    worker = a.services.delivery
    running = asyncio.ensure_future(worker.run_forever(asyncio.Event()))
    try:
        await asyncio.wait_for(hang.arrived.wait(), SAFETY)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        assert running.cancelled()
        rows = [d for d, _ in await _rows(a)]
        assert {(d.state, d.attempts) for d in rows} == {("pending", 0)}
        assert all(d.lease_owner is not None for d in rows)
    finally:
        hang.released.set()
    later = DeliveryWorker(a.services.db, a.services.federation, base_url="https://a.test")
    assert await later.run_single_cycle() == 0  # still leased by the dead worker
    later.clock = lambda: datetime.now(UTC) + LEASE + timedelta(seconds=1)
    await _drain(later)
    assert {d.state for d, _ in await _rows(a)} == {"delivered"}
    assert set(held) <= set(hang.seen)


async def test_a_backlog_to_one_server_flows_without_waiting_for_a_poll(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows to one server than it may have in flight: each freed slot claims the next."""
    monkeypatch.setattr(background, "IDLE_POLL_SECONDS", 3600.0)  # only a wake-up or a slot frees
    a, alice = await _start(network)
    sink = Peer()
    await network.serve("sink.test", sink.app)
    backlog = await _queue(a, alice, "sink.test", 3 * PER_DOMAIN, "backlog")
    worker = a.services.delivery
    delivered: list[str] = []
    everything = asyncio.Event()

    def settled(outcomes: Sequence[queue.Settlement]) -> None:
        delivered.extend(o.delivery.domain for o in outcomes if o.state == "delivered")
        if len(delivered) == len(backlog):
            everything.set()

    worker.on_settled(settled)
    stop = asyncio.Event()
    running = asyncio.ensure_future(worker.run_forever(stop))
    try:
        await asyncio.wait_for(everything.wait(), SAFETY)
    finally:
        stop.set()
        await asyncio.wait_for(running, SAFETY)
    assert sorted(sink.seen) == sorted(backlog)
