"""Live streams under load and faults: many readers, a stalled reader, per-address limits,
a restart, the database going away, and hints crossing processes through PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import pytest

from kizuna.app import create_app, http_session
from kizuna.container import Services
from kizuna.realtime.events import LiveEvent
from kizuna.realtime.pg_bridge import PgBridge, asyncpg_dsn
from kizuna.storage.engine import Database
from kizuna.web.live_limits import live_connections_key
from tests.integration.lab import Instance, Network
from tests.integration.sse import EventReader, open_stream
from tests.integration.test_live import person
from tests.integration.web import log_in

READERS = 50
POSTS = 500


async def until(check: object, what: str, seconds: float = 15.0) -> None:
    """Wait for a condition the server reaches on its own (a stream noticing its reader)."""
    assert callable(check)
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_fifty_readers_each_get_all_five_hundred_posts(network: Network) -> None:
    a = await network.start("a.test", live_per_ip=READERS, rate_post=0)
    _, poster = await person(a.services, "poster")
    readers: list[EventReader] = []
    for i in range(READERS):
        user = await a.services.accounts.create_user(f"reader{i}", "pw-reader-long")
        await a.services.follows.follow(user.account, "poster")
        token = await a.services.accounts.start_session(user)
        readers.append(await open_stream(a.browser, "/live/home", session=token))

    async def post_all() -> list[int]:
        return [(await a.services.posts.create(poster, f"news {n}")).id for n in range(POSTS)]

    posted, received = await asyncio.gather(
        post_all(), asyncio.gather(*(reader.posts(POSTS, wait=60) for reader in readers))
    )
    for events in received:
        assert sorted(int(e.data["id"]) for e in events) == sorted(posted)
    assert a.server.app[live_connections_key].open == READERS  # all stayed connected
    for reader in readers:
        reader.close()


async def test_a_reader_that_stops_reading_is_cut_off_and_nothing_grows(network: Network) -> None:
    a = await network.start("a.test", live_write_timeout=0.3, live_heartbeat=0.1, rate_post=0)
    alice, me = await person(a.services, "alice")
    _, bob = await person(a.services, "bob")
    await a.services.follows.follow(me, "bob")
    await log_in(a.browser, alice)
    cookie = "; ".join(f"{c.key}={c.value}" for c in a.browser.session.cookie_jar)

    # A raw socket with a tiny receive window that never reads past the response head.
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(stalled, ("127.0.0.1", a.port))
    request = f"GET /live/home HTTP/1.1\r\nHost: a.test\r\nCookie: {cookie}\r\n\r\n"
    await loop.sock_sendall(stalled, request.encode())
    head = await loop.sock_recv(stalled, 1024)
    assert head.startswith(b"HTTP/1.1 200")
    connections = a.server.app[live_connections_key]
    broker = a.services.hub.broker
    assert connections.open == 1

    text = "long news " + "絆" * 120
    made = 0
    while connections.open and made < POSTS:
        await a.services.posts.create(bob, text)
        made += 1
        await asyncio.sleep(0)
    await until(lambda: connections.open == 0, "the stalled stream was closed")
    assert broker.open_subscriptions == 0
    assert made < POSTS  # cut off long before every post was made
    stalled.close()

    # The server itself is fine: a reader who reads gets the next post.
    live = await open_stream(a.browser, "/live/home")
    post = await a.services.posts.create(bob, "after the stall")
    assert (await live.next_named("post")).data["id"] == str(post.id)
    live.close()


async def test_one_address_cannot_hold_more_than_its_share(network: Network) -> None:
    a = await network.start("a.test", live_per_ip=3, live_heartbeat=0.05)
    alice, _ = await person(a.services, "alice")
    await log_in(a.browser, alice)
    open_ones = [await open_stream(a.browser, "/live/home") for _ in range(3)]
    refused = await a.browser.get("/live/home")
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many live connections" in await refused.text()
    open_ones.pop().close()
    connections = a.server.app[live_connections_key]
    await until(lambda: connections.open == 2, "a closed stream frees its place")
    again = await open_stream(a.browser, "/live/home")
    again.close()
    for stream in open_ones:
        stream.close()


async def test_restart__reader_resumes_and_misses_nothing(network: Network, tmp_path: Path) -> None:
    url = await network.database_factory("a.test")
    config = network.config("a.test", url)
    first = await network.serve("a.test", create_app(config))
    alice, me = await person(first.services, "alice")
    _, bob = await person(first.services, "bob")
    await first.services.follows.follow(me, "bob")
    await log_in(first.browser, alice)
    stream = await open_stream(first.browser, "/live/home")
    before = await first.services.posts.create(bob, "before the restart")
    assert (await stream.next_named("post")).data["id"] == str(before.id)
    position = stream.last_id
    await first.browser.close()  # the process goes away; the browser keeps its position

    db = Database.from_url(url)
    async with http_session(config) as http:
        offline = Services.build(config, db, http)
        during = [await offline.posts.create(bob, f"while down {i}") for i in range(3)]
    await db.dispose()

    second = await network.serve("a.test", create_app(config))
    await log_in(second.browser, alice)
    resumed = await open_stream(second.browser, "/live/home", last_event_id=position)
    events = await resumed.posts(4)
    got = [e.data["id"] for e in events if e.data["id"] != str(before.id)]
    assert got[:3] == [str(p.id) for p in during]
    resumed.close()


def _postgres_only(instance: Instance) -> None:
    if instance.services.db.is_sqlite:
        pytest.skip("PostgreSQL only: hints cross processes and the server can be taken away")


async def _bridge_up(instance: Instance) -> PgBridge:
    relay = instance.services.hub.relay
    assert isinstance(relay, PgBridge)
    await asyncio.wait_for(relay.connected.wait(), 10)
    return relay


async def test_postgres__a_post_made_by_another_process_reaches_this_ones_readers(
    network: Network,
) -> None:
    url = await network.database_factory("a.test")
    config = network.config("a.test", url)
    writer = await network.serve("a.test", create_app(config))
    _postgres_only(writer)
    reader = await network.serve("a.test", create_app(config))  # same database, other app
    await _bridge_up(writer)
    await _bridge_up(reader)
    alice, me = await person(writer.services, "alice")
    _, bob = await person(writer.services, "bob")
    await writer.services.follows.follow(me, "bob")
    await log_in(reader.browser, alice)
    stream = await open_stream(reader.browser, "/live/home")

    post = await writer.services.posts.create(bob, "made by the other process")
    assert (await stream.next_named("post")).data["id"] == str(post.id)
    stream.close()

    # Queue rows committed by one process wake the workers of the others at once.
    reader.services.delivery.wakeup.clear()
    writer.services.hub.publish([LiveEvent(kind="delivery")])
    await asyncio.wait_for(reader.services.delivery.wakeup.wait(), 10)


async def test_postgres__database_goes_away_streams_recover(network: Network) -> None:
    a = await network.start("a.test", live_heartbeat=0.1)
    _postgres_only(a)
    bridge = await _bridge_up(a)
    alice, me = await person(a.services, "alice")
    _, bob = await person(a.services, "bob")
    await a.services.follows.follow(me, "bob")
    await log_in(a.browser, alice)
    stream = await open_stream(a.browser, "/live/home")

    url = a.services.db.engine.url
    admin = await asyncpg.connect(asyncpg_dsn(url.render_as_string(hide_password=False)))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert killed >= 1  # at least the bridge's LISTEN connection
    post = await a.services.posts.create(bob, "after the database came back")
    assert (await stream.next_named("post", wait=20)).data["id"] == str(post.id)
    await asyncio.wait_for(bridge.connected.wait(), 10)  # and the bridge is listening again
    stream.close()
