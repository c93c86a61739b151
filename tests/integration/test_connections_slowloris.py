"""Slowloris on a real instance over loopback: raw sockets trickling request heads or bodies,
idle connections past the per-address limit, while normal clients and live streams go on.

Timeouts are configured short (fractions of a second); every wait for the server to act has
a generous upper bound and nothing asserts how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.integration.lab import Instance, Network
from tests.integration.sse import open_stream
from tests.integration.test_live import person
from tests.integration.web import log_in

BOUND = 15.0  # seconds the server gets to act before the test fails
HEAD = b"GET /login HTTP/1.1\r\nHost: a.test\r\n"


async def connect(instance: Instance) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", instance.port)


async def trickle(writer: asyncio.StreamWriter, start: bytes, drip: bytes) -> None:
    """Sends `start`, then `drip` every 50 ms until the server closes the connection."""
    with contextlib.suppress(ConnectionError):
        writer.write(start)
        while not writer.is_closing():
            await asyncio.sleep(0.05)
            writer.write(drip)
            await writer.drain()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent before closing (b"" when it answered nothing)."""
    try:
        return await asyncio.wait_for(reader.read(), BOUND)
    except ConnectionResetError:
        return b""


async def served(instance: Instance, path: str = "/login") -> None:
    """A whole request on a fresh connection, answered 200 and closed by the server."""
    reader, writer = await connect(instance)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n".encode())
    answer = await closed_by_server(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


async def test_trickled_heads_closed_while_a_normal_client_is_served(network: Network) -> None:
    a = await network.start("a.test", header_timeout=0.3, idle_connections_per_ip=1000)
    slow = [await connect(a) for _ in range(50)]
    drips = [asyncio.ensure_future(trickle(w, HEAD + b"X-Slow: ", b"a")) for _, w in slow]
    closes = [asyncio.ensure_future(closed_by_server(r)) for r, _ in slow]

    served_meanwhile = 0
    while not all(close.done() for close in closes) or served_meanwhile == 0:
        response = await a.browser.get("/login")
        assert response.status == 200
        served_meanwhile += 1
    assert [close.result() for close in closes] == [b""] * 50  # closed, never answered
    await asyncio.wait_for(asyncio.gather(*drips), BOUND)
    for _, writer in slow:
        writer.close()


async def test_keep_alive_connection_serves_request_after_request(network: Network) -> None:
    a = await network.start("a.test", header_timeout=5.0)
    reader, writer = await connect(a)
    for _ in range(3):
        writer.write(HEAD + b"\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND)
        assert head.startswith(b"HTTP/1.1 200")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await asyncio.wait_for(reader.readexactly(length), BOUND)
    writer.close()


async def test_idle_connections_over_the_per_address_limit_closed(network: Network) -> None:
    a = await network.start("a.test", header_timeout=60.0, idle_connections_per_ip=3)
    idle = [await connect(a) for _ in range(5)]
    reads = [asyncio.ensure_future(reader.read()) for reader, _ in idle]

    done: set[asyncio.Future[bytes]] = set()
    while len(done) < 2:
        finished, _ = await asyncio.wait(
            [r for r in reads if r not in done], timeout=BOUND, return_when="FIRST_COMPLETED"
        )
        assert finished, "no idle connection was closed"
        done |= finished
    assert len(done) == 2
    assert all(read.result() == b"" for read in done)

    # The three within the limit were kept open: each still gets its request served.
    for (_, writer), read in zip(idle, reads, strict=True):
        if read not in done:
            writer.write(HEAD + b"Connection: close\r\n\r\n")
            answer = await asyncio.wait_for(read, BOUND)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    for _, writer in idle:
        writer.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/login", "application/x-www-form-urlencoded"),  # a form (CSRF reads it first)
        ("/settings/profile", "multipart/form-data; boundary=xyz"),  # an upload
    ],
)
async def test_trickled_body_cut_with_408(network: Network, path: str, content_type: str) -> None:
    a = await network.start("a.test", body_timeout=0.3, header_timeout=30.0)
    reader, writer = await connect(a)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: a.test\r\nContent-Type: {content_type}\r\n"
        "Content-Length: 100000\r\n\r\n"
    ).encode()
    drip = asyncio.ensure_future(trickle(writer, head + b"x" * 10, b"x"))

    await served(a)  # the server is not held up meanwhile
    answer = await closed_by_server(reader)
    # Cut. A byte still dripping in as the server closes is answered by the kernel with a
    # reset, which may discard the 408 before it is read (TCP, not us): the stalled body
    # below shows the 408 itself.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    await asyncio.wait_for(drip, BOUND)
    writer.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/login", "application/x-www-form-urlencoded"),
        ("/settings/profile", "multipart/form-data; boundary=xyz"),
    ],
)
async def test_stalled_body_answered_408(network: Network, path: str, content_type: str) -> None:
    a = await network.start("a.test", body_timeout=0.3, header_timeout=30.0)
    reader, writer = await connect(a)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: a.test\r\nContent-Type: {content_type}\r\n"
        "Content-Length: 100000\r\n\r\n".encode()
        + b"x" * 10
    )
    await served(a)
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    writer.close()


async def test_live_stream_outlives_the_timeouts(network: Network) -> None:
    a = await network.start(
        "a.test", header_timeout=0.2, body_timeout=0.2, idle_connections_per_ip=1
    )
    alice, me = await person(a.services, "alice")
    _, bob = await person(a.services, "bob")
    await a.services.follows.follow(me, "bob")
    await log_in(a.browser, alice)
    stream = await open_stream(a.browser, "/live/home")

    # A trickling connection is closed: the header timeout has passed for the stream too.
    reader, writer = await connect(a)
    drip = asyncio.ensure_future(trickle(writer, HEAD + b"X-Slow: ", b"a"))
    assert await closed_by_server(reader) == b""
    await asyncio.wait_for(drip, BOUND)

    post = await a.services.posts.create(bob, "still live")
    assert (await stream.next_named("post")).data["id"] == str(post.id)
    stream.close()
    writer.close()
