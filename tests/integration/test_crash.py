"""Crash test: real `kizuna serve` processes, `kill -9` mid-delivery, nothing lost or doubled.

a.test queues deliveries to b.test while b is down, is killed with SIGKILL, comes back,
and is killed again while its requests to b are in flight (b is frozen with SIGSTOP so the
requests sit in b's socket buffers: b stores them after a has died, before a could record
them). Delivery is at-least-once — a sends those again after its restart — and b's inbox
stores each activity once by id, so every post arrives exactly once at the application level.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from kizuna.federation.delivery import PER_DOMAIN

N = 20
PASSWORD = "crash-test-password"
SECRET = "crash-test-secret-not-for-production"
ALICE = "https://a.test/users/alice"
BOB = "https://b.test/users/bob"
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
POLL = 0.02
T = TypeVar("T")


@dataclass
class Node:
    """One instance: its database file, its environment, its log, its current process."""

    domain: str
    port: int
    db_path: Path
    log_path: Path
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _nodes(tmp_path: Path, template: Path) -> tuple[Node, Node]:
    ports = _free_ports(2)
    domains = ("a.test", "b.test")
    host_map = ",".join(f"{d}=127.0.0.1:{p}" for d, p in zip(domains, ports, strict=True))
    base = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    nodes = []
    for domain, port in zip(domains, ports, strict=True):
        db_path = tmp_path / f"{domain}.db"
        shutil.copyfile(template, db_path)
        env = {
            **base,
            "KIZUNA_DOMAIN": domain,
            "KIZUNA_HOST": "127.0.0.1",
            "KIZUNA_PORT": str(port),
            "KIZUNA_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
            "KIZUNA_MEDIA_DIR": str(tmp_path / f"{domain}-media"),
            "KIZUNA_SECRET": SECRET,
            "KIZUNA_FEDERATION_HOSTS": host_map,
            "KIZUNA_ALLOW_PRIVATE_ADDRESSES": "1",
            "KIZUNA_WORKERS": "1",
            "KIZUNA_FETCH_TIMEOUT": "2",
        }
        log_path = tmp_path / f"{domain}.log"
        nodes.append(Node(domain=domain, port=port, db_path=db_path, log_path=log_path, env=env))
    return nodes[0], nodes[1]


# --- processes ---------------------------------------------------------------------------


async def _kizuna(node: Node, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kizuna",
        *args,
        env=node.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"kizuna {' '.join(args)} on {node.domain}: {text}"
    return text


async def _start(node: Node, http: aiohttp.ClientSession) -> None:
    assert node.process is None
    with node.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        node.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kizuna", "serve", env=node.env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if node.process.returncode is not None:
            break
        try:
            async with http.get(f"{node.url}/.well-known/nodeinfo") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{node.domain} never answered:\n{node.log()}")


async def _reap(node: Node, sig: signal.Signals) -> int:
    process, node.process = node.process, None
    if process is None:
        return 0
    if process.returncode is None:
        if sig is not signal.SIGKILL:
            process.send_signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
        process.send_signal(sig)
    try:
        return await asyncio.wait_for(process.wait(), timeout=20)
    except TimeoutError:
        process.kill()
        return await process.wait()


async def _crash(node: Node) -> None:
    """`kill -9`: no shutdown code runs, leases stay taken, requests stay unanswered."""
    assert await _reap(node, signal.SIGKILL) == -signal.SIGKILL


async def _stop(node: Node) -> None:
    assert await _reap(node, signal.SIGTERM) == 0, node.log()


def _freeze(node: Node) -> None:
    assert node.process is not None
    node.process.send_signal(signal.SIGSTOP)


def _thaw(node: Node) -> None:
    assert node.process is not None
    node.process.send_signal(signal.SIGCONT)


# --- databases (read-only while the server runs) -----------------------------------------


def _rows(node: Node, sql: str, *params: object) -> list[tuple[Any, ...]]:
    uri = f"{node.db_path.as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def _one(node: Node, sql: str, *params: object) -> Any:
    rows = _rows(node, sql, *params)
    return rows[0][0] if rows else None


FOLLOW_STATE = """
    SELECT f.state FROM follows f
    JOIN accounts follower ON follower.id = f.account_id
    JOIN accounts target ON target.id = f.target_account_id
    WHERE follower.uri = ? AND target.uri = ?
"""
CREATE_DELIVERIES = """
    SELECT d.state, d.attempts, d.lease_owner FROM deliveries d
    JOIN outbox_activities o ON o.id = d.outbox_activity_id
    WHERE o.activity_type = 'Create' AND d.domain = 'b.test'
"""
INBOX_CREATES = """
    SELECT count(*), count(DISTINCT activity_id) FROM inbox_activities
    WHERE activity_type = 'Create' AND actor_uri = ?
"""
STORED_CREATES = """
    SELECT activity_id FROM inbox_activities WHERE activity_type = 'Create' AND actor_uri = ?
"""
REMOTE_POSTS = """
    SELECT count(*), count(DISTINCT p.uri) FROM posts p JOIN accounts a ON a.id = p.account_id
    WHERE a.uri = ? AND NOT p.local
"""


def _let_time_pass(node: Node) -> int:
    """Stands for the minutes a real crash takes to recover from, on a's file while a is down.

    Retries back off (30 s, 1 min…) and a dead process's leases last 2 minutes; moving
    next_attempt_at and lease_until into the past (to created_at) is exactly what the rows
    look like once that time has passed, so the test need not wait for it.
    """
    assert node.process is None, "only while the server is down"
    with closing(sqlite3.connect(node.db_path, timeout=10)) as conn, conn:
        cursor = conn.execute(
            "UPDATE deliveries SET next_attempt_at = created_at, lease_until = created_at"
            " WHERE state = 'pending'"
        )
        return cursor.rowcount


async def _eventually(
    check: Callable[[], T | None], what: str, nodes: tuple[Node, ...], seconds: float = 30
) -> T:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n.domain} log ---\n{n.log()[-6000:]}" for n in nodes)
            raise AssertionError(f"timed out waiting until {what}\n{logs}")
        await asyncio.sleep(POLL)


def _buffered_requests(port: int) -> int:
    """Connections to `port` holding unread bytes: requests sent to a frozen server (Linux)."""
    # The kernel prints the address as a native-endian number of its network-order bytes.
    loopback = int.from_bytes(socket.inet_aton("127.0.0.1"), sys.byteorder)
    local = f"{loopback:08X}:{port:04X}"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        rx_queue = int(fields[4].split(":")[1], 16)
        if fields[1] == local and fields[3] == "01" and rx_queue > 0:  # 01: ESTABLISHED
            count += 1
    return count


# --- the web UI, as a browser uses it ----------------------------------------------------


async def _csrf(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        match = CSRF_RE.search(await response.text())
    assert match, f"no CSRF token on {url}"
    return match.group(1)


async def _log_in(http: aiohttp.ClientSession, node: Node, username: str) -> str:
    """Logs in; returns the CSRF token for the session's later forms."""
    token = await _csrf(http, f"{node.url}/login")
    form = {"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"}
    async with http.post(f"{node.url}/login", data=form, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
    return await _csrf(http, f"{node.url}/")


def _browser() -> aiohttp.ClientSession:
    # One session per instance: cookies are per host, not per port.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


# --- the test ----------------------------------------------------------------------------


async def test_kill_9_mid_delivery_then_every_post_arrives_exactly_once(
    tmp_path: Path, sqlite_template: Path
) -> None:
    a, b = _nodes(tmp_path, sqlite_template)
    nodes = (a, b)
    await asyncio.gather(
        _kizuna(a, "user", "create", "alice", "--password", PASSWORD),
        _kizuna(b, "user", "create", "bob", "--password", PASSWORD),
    )
    try:
        async with _browser() as probe, _browser() as on_a, _browser() as on_b:
            await asyncio.gather(_start(a, probe), _start(b, probe))

            # bob on b follows alice on a, through b's web UI.
            token = await _log_in(on_b, b, "bob")
            search = f"{b.url}/search"
            params = {"q": "@alice@a.test"}
            async with on_b.get(search, params=params, allow_redirects=False) as response:
                assert response.status == 303, await response.text()
            follow = f"{b.url}/@alice@a.test/follow"
            async with on_b.post(follow, data={"csrf_token": token}, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            await _eventually(
                lambda: (
                    _one(a, FOLLOW_STATE, BOB, ALICE) == "accepted"
                    and _one(b, FOLLOW_STATE, BOB, ALICE) == "accepted"
                ),
                "the follow is accepted on both sides",
                nodes,
            )

            # b goes down; alice posts N times; a's deliveries to b fail and back off.
            await _stop(b)
            token = await _log_in(on_a, a, "alice")
            for i in range(N):
                data = {"csrf_token": token, "content": f"crash test post {i}"}
                async with on_a.post(f"{a.url}/posts", data=data, allow_redirects=False) as r:
                    assert r.status == 303, await r.text()

            def tried_and_pending() -> bool:
                rows = _rows(a, CREATE_DELIVERIES)
                return len(rows) == N and all(s == "pending" and n >= 1 for s, n, _ in rows)

            await _eventually(tried_and_pending, "a tried each delivery and keeps it", nodes)

            # Crash 1: kill -9 a with N deliveries pending.
            await _crash(a)
            assert _let_time_pass(a) == N

            # b comes back, but frozen: a's requests reach b's socket buffers, unanswered.
            await _start(b, probe)
            _freeze(b)
            await _start(a, probe)

            def leased() -> list[tuple[Any, ...]]:
                if _buffered_requests(b.port) < PER_DOMAIN:
                    return []
                return [row for row in _rows(a, CREATE_DELIVERIES) if row[2] is not None]

            in_flight = await _eventually(
                leased, f"{PER_DOMAIN} deliveries are in flight to the frozen b", nodes
            )
            assert {state for state, _, _ in in_flight} == {"pending"}

            # Crash 2: kill -9 a mid-delivery. Then b wakes up and stores what it was sent,
            # so b has activities that a still counts as pending: a will send them again.
            await _crash(a)
            _thaw(b)

            def stored_on_b() -> set[str]:
                return {activity_id for (activity_id,) in _rows(b, STORED_CREATES, ALICE)}

            await _eventually(stored_on_b, "b stores the requests a sent before it died", nodes)
            assert _let_time_pass(a) == N
            early = stored_on_b()
            assert 0 < len(early) < N

            await _start(a, probe)

            unprocessed = "SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL"

            def all_arrived() -> bool:
                deliveries = _rows(a, CREATE_DELIVERIES)
                return (
                    _rows(b, INBOX_CREATES, ALICE)[0][0] >= N
                    and _rows(b, REMOTE_POSTS, ALICE)[0][0] >= N
                    and len(deliveries) == N
                    and all(state == "delivered" for state, _, _ in deliveries)
                    # Stored is not yet processed: under load b's worker may still be busy.
                    and _one(b, unprocessed) == 0
                )

            await _eventually(
                all_arrived, "every post arrived and was processed", nodes, seconds=60
            )
            # Exactly once: N stored activities and N posts, each distinct, no more.
            assert _rows(b, INBOX_CREATES, ALICE) == [(N, N)]
            assert _rows(b, REMOTE_POSTS, ALICE) == [(N, N)]
            # a sent the early ones again (it never saw b's answer); b answered 202 "duplicate".
            resent = set(re.findall(r"duplicate Create (\S+) from a\.test", b.log()))
            assert early <= resent, b.log()[-6000:]
    finally:
        for node in nodes:
            await _reap(node, signal.SIGKILL)
