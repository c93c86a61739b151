"""The delivery queue against peers that fail in every way a real server can."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import select

from kizuna.federation.delivery import DeliveryWorker
from kizuna.storage.models import Delivery, OutboxActivity, PeerDomain
from kizuna.storage.queue import add_outbox_activity
from tests.integration.lab import Instance, Network


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


hits_key = web.AppKey("hits", list[bytes])


def answering(status: int, headers: dict[str, str] | None = None) -> web.Application:
    app = web.Application()
    hits: list[bytes] = []
    app[hits_key] = hits

    async def inbox(request: web.Request) -> web.Response:
        hits.append(await request.read())
        return web.Response(status=status, headers=headers or {}, text="no")

    app.router.add_post("/inbox", inbox)
    return app


async def _queue(a: Instance, domain: str, number: int = 1) -> None:
    sender = (await a.services.accounts.list_users())[0].account
    now = datetime.now(UTC)
    async with a.services.db.begin() as session:
        doc = {"id": f"https://a.test/activities/{number}", "type": "Create", "actor": sender.uri}
        activity = OutboxActivity(
            activity_id=doc["id"],
            activity_type="Create",
            account_id=sender.id,
            raw=doc,
            created_at=now,
        )
        await add_outbox_activity(session, activity, [(f"https://{domain}/inbox", domain)], now)


async def _deliveries(a: Instance) -> list[Delivery]:
    async with a.services.db.begin() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def _worker(a: Instance, clock: Clock) -> DeliveryWorker:
    worker = a.services.delivery
    worker.clock = clock
    return worker


async def _start(network: Network) -> Instance:
    a = await network.start("a.test", fetch_timeout=1.0)
    await a.services.accounts.create_user("alice", "password-alice")
    return a


async def test_500_then_retried_later_with_backoff(network: Network) -> None:
    a = await _start(network)
    peer = answering(500)
    await network.serve("down.test", peer)
    await _queue(a, "down.test")
    clock = Clock()
    worker = await _worker(a, clock)
    assert await worker.run_single_cycle() == 1
    (row,) = await _deliveries(a)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 500)
    gap = row.next_attempt_at - clock.now
    assert timedelta(seconds=20) < gap < timedelta(seconds=40)
    assert await worker.run_single_cycle() == 0  # not due yet
    clock.now += timedelta(minutes=1)
    assert await worker.run_single_cycle() == 1
    (row,) = await _deliveries(a)
    assert row.attempts == 2
    assert row.next_attempt_at - clock.now > timedelta(seconds=45)  # doubled
    assert len(peer[hits_key]) == 2


async def test_410_is_gone_and_400_is_permanent(network: Network) -> None:
    a = await _start(network)
    await network.serve("gone.test", answering(410))
    await network.serve("bad.test", answering(400))
    await network.serve("moved.test", answering(301, {"Location": "https://elsewhere.test/"}))
    await _queue(a, "gone.test", 1)
    await _queue(a, "bad.test", 2)
    await _queue(a, "moved.test", 3)
    await a.services.delivery.run_single_cycle()
    states = {r.domain: (r.state, r.last_status) for r in await _deliveries(a)}
    # 400 also got the RFC 9421 second knock before being given up.
    assert states == {
        "gone.test": ("gone", 410),
        "bad.test": ("failed", 400),
        "moved.test": ("failed", 301),
    }


async def test_429_honours_retry_after(network: Network) -> None:
    a = await _start(network)
    await network.serve("busy.test", answering(429, {"Retry-After": "300"}))
    await _queue(a, "busy.test")
    clock = Clock()
    await (await _worker(a, clock)).run_single_cycle()
    (row,) = await _deliveries(a)
    assert row.state == "pending"
    assert row.next_attempt_at - clock.now == timedelta(seconds=300)


async def test_dead_server_then_unavailable_after_a_day_then_probe_recovers(
    network: Network,
) -> None:
    a = await _start(network)
    network.host_map["dead.test"] = ("127.0.0.1", 9)  # discard port: connection refused
    await _queue(a, "dead.test")
    clock = Clock()
    worker = await _worker(a, clock)
    for _ in range(12):
        await worker.run_single_cycle()
        clock.now += timedelta(hours=3)
    async with a.services.db.begin() as session:
        peer = await session.get(PeerDomain, "dead.test")
        assert peer is not None
        assert peer.unavailable
        assert peer.next_probe_at is not None
    # The server comes back: the next probe delivers and clears the breaker.
    app = answering(202)
    await network.serve("dead.test", app)
    clock.now += timedelta(hours=7)
    await worker.run_single_cycle()
    await worker.run_single_cycle()
    (row,) = await _deliveries(a)
    assert row.state == "delivered"
    async with a.services.db.begin() as session:
        peer = await session.get(PeerDomain, "dead.test")
        assert peer is not None
        assert not peer.unavailable


async def test_a_hanging_peer_does_not_block_other_deliveries(network: Network) -> None:
    a = await _start(network)
    hang = web.Application()

    async def slow_inbox(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(status=202)

    hang.router.add_post("/inbox", slow_inbox)
    await network.serve("hang.test", hang)
    fast = answering(202)
    await network.serve("fast.test", fast)
    await _queue(a, "hang.test", 1)
    await _queue(a, "fast.test", 2)
    await a.services.delivery.run_single_cycle()  # bounded by the 1 s fetch timeout
    states = {r.domain: r.state for r in await _deliveries(a)}
    assert states == {"hang.test": "pending", "fast.test": "delivered"}
    assert json.loads(fast[hits_key][0])["id"] == "https://a.test/activities/2"


async def test_two_workers_never_claim_the_same_delivery(network: Network) -> None:
    """Two workers, five shared servers: each delivery once, health rows never deadlock."""
    a = await _start(network)
    sinks = {f"sink{n}.test": answering(202) for n in range(5)}
    for domain, app in sinks.items():
        await network.serve(domain, app)
    for number in range(60):
        await _queue(a, f"sink{number % 5}.test", number)
    other = DeliveryWorker(a.services.db, a.services.federation, base_url="https://a.test", batch=7)
    a.services.delivery.batch = 7
    while sum(
        await asyncio.gather(a.services.delivery.run_single_cycle(), other.run_single_cycle())
    ):
        pass
    assert sum(len(app[hits_key]) for app in sinks.values()) == 60
    assert {r.state for r in await _deliveries(a)} == {"delivered"}
