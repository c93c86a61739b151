"""End-to-end latency: a post on a.test to its Server-Sent Event on b.test, for a follower.

Two lab instances run as separate `kizuna serve` processes (a.test, b.test; SQLite; the lab host
map over 127.0.0.1). `--posters` accounts on a post `--posts` posts at a steady `--rate`, each
from its own session; one reader on b follows them all and holds `GET /live/home` open. The
latency of a post is the arrival of its SSE event in this process minus the moment its
`POST /posts` was sent (time.perf_counter, one clock). Each post carries a unique nonce that the
event's html shows.

Ceilings from the same run, printed beside the figure: (1) a loopback HTTP round trip to a
trivial aiohttp handler through the same client; (2) a post by a b-local account the reader
follows to the event on the same stream (no federation). Nothing asserts: it prints figures,
the targets (p50 <= 50 ms, p99 <= 1 s) and writes bench/results/e2e_latency.json.

    python bench/e2e_latency.py [--posts 1000] [--posters 200] [--rate 50]
                                [--local-posts 200] [--local-posters 20] [--timeout 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from timeline import child_pids, free_port
from timeline import server as timeline_server

from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.engine import Database, make_engine, migrate
from kizuna.storage.models import Delivery, Follow, InboxActivity, OutboxActivity, Post

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "e2e_latency.json"
PASSWORD = "bench-password"
TARGET_P50_MS, TARGET_P99_MS = 50.0, 1000.0
HELLO_REQUESTS, HELLO_RATE = 500, 200.0
# In each post's text, so in its event's html: kz + run tag + l(ocal)/r(emote) + number.
NONCE_RE = re.compile(r"kz[0-9a-f]{6}[lr][0-9]{5}")
CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
RATE_ENV = {f"KIZUNA_RATE_{k}": "0" for k in ("POST", "LOGIN", "SIGNUP", "INBOX")}


# --- processes ----------------------------------------------------------------------------


def tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


@dataclass(frozen=True, slots=True)
class Server:
    base: str
    pid: int


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process so far: of this one when pid is None."""
    if pid is None:
        return time.process_time()
    try:  # Linux: fields 14 and 15 of /proc/PID/stat, after the parenthesised name
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def server(
    cmd: list[str], env: dict[str, str], log: Path, port: int
) -> AsyncIterator[Server]:
    """timeline.server (started, answering, always stopped), with the child's pid."""
    before = child_pids()
    async with timeline_server(cmd, env, log, port) as base:
        (pid,) = child_pids() - before
        yield Server(base, pid)


def run_hello(port: int) -> None:
    """Ceiling (1): one trivial handler, no middleware, no access log, no database."""

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass(frozen=True, slots=True)
class Instance:
    domain: str
    port: int
    url: str  # database URL
    env: dict[str, str]
    log: Path


def lab(tmp: Path) -> tuple[Instance, Instance]:
    ports = {"a.test": free_port(), "b.test": free_port()}
    host_map = ",".join(f"{d}=127.0.0.1:{p}" for d, p in ports.items())
    instances = []
    for domain, port in ports.items():
        url = f"sqlite+aiosqlite:///{tmp / domain}.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")} | RATE_ENV
        env |= dict(KIZUNA_DOMAIN=domain, KIZUNA_HOST="127.0.0.1", KIZUNA_PORT=str(port))
        env |= dict(KIZUNA_DATABASE_URL=url, KIZUNA_MEDIA_DIR=str(tmp / f"{domain}-media"))
        env |= dict(KIZUNA_FEDERATION_HOSTS=host_map, KIZUNA_ALLOW_PRIVATE_ADDRESSES="1")
        instances.append(Instance(domain, port, url, env, tmp / f"{domain}.log"))
    return instances[0], instances[1]


# --- accounts: made in-process before the servers start ----------------------------------


@dataclass(slots=True)
class Person:
    name: str
    account_id: int
    session: str  # kizuna_session cookie
    csrf_cookie: str = ""
    csrf_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        cookie = f"kizuna_session={self.session}; kizuna_csrf={self.csrf_cookie}"
        return {"Cookie": cookie, "X-CSRF-Token": self.csrf_token}


async def make_people(instance: Instance, names: Iterable[str]) -> list[Person]:
    """kizuna's own sign-up and log-in code (a key pair and a password hash each, ~0.1 s
    of CPU: four at a time in threads), so every cookie is a real one."""
    engine = make_engine(instance.url)
    try:
        await migrate(engine)
        config = Config(domain=instance.domain, database_url=instance.url, secret="unused")
        async with aiohttp.ClientSession() as http:  # build() wants one; nothing is fetched
            accounts = Services.build(config, Database(engine), http).accounts
            limit = asyncio.Semaphore(4)

            async def one(name: str) -> Person:
                async with limit:
                    user = await accounts.create_user(name, PASSWORD)
                    return Person(name, user.account_id, await accounts.start_session(user))

            return list(await asyncio.gather(*(one(n) for n in names)))
    finally:
        await engine.dispose()


async def fetch_csrf(http: aiohttp.ClientSession, base: str, person: Person) -> None:
    """As a browser: load the home page, keep the CSRF cookie, read the form's token."""
    async with http.get(base + "/", headers=person.headers) as resp:
        page = await resp.text()
        cookie = resp.cookies.get("kizuna_csrf")
    match = CSRF_RE.search(page)
    if resp.status != 200 or cookie is None or match is None:
        raise RuntimeError(f"no CSRF token for {person.name} on {base}/ (HTTP {resp.status})")
    person.csrf_cookie, person.csrf_token = cookie.value, match.group(1)


async def follow_all(
    http: aiohttp.ClientSession, base: str, reader: Person, handles: list[str]
) -> None:
    """The reader follows each handle through b's web UI (remote ones found by search)."""
    limit = asyncio.Semaphore(16)

    async def one(handle: str) -> None:
        async with limit:
            if "@" in handle:  # brings the remote account into b's database
                query = {"q": f"@{handle}"}
                async with http.get(
                    base + "/search", params=query, headers=reader.headers, allow_redirects=False
                ) as resp:
                    if resp.status != 303:
                        raise RuntimeError(f"search {handle}: HTTP {resp.status}")
            async with http.post(
                f"{base}/@{handle}/follow", headers=reader.headers, allow_redirects=False
            ) as resp:
                if resp.status != 303:
                    raise RuntimeError(f"follow {handle}: HTTP {resp.status}")

    await asyncio.gather(*(one(h) for h in handles))


async def wait_accepted(engine: AsyncEngine, reader: Person, count: int, seconds: float) -> float:
    started = time.perf_counter()
    query = select(func.count()).where(Follow.account_id == reader.account_id)
    query = query.where(Follow.state == "accepted")
    while True:
        async with engine.connect() as conn:
            accepted = (await conn.execute(query)).scalar_one()
        if accepted >= count:
            return time.perf_counter() - started
        if time.perf_counter() - started > seconds:
            raise RuntimeError(f"only {accepted} of {count} follows accepted in {seconds:.0f} s")
        await asyncio.sleep(0.1)


# --- the SSE client -----------------------------------------------------------------------


@dataclass(slots=True)
class Arrival:
    perf: float
    wall: float


@dataclass(slots=True)
class LiveStream:
    """`GET /live/home`, parsed as the SSE spec says; each event timestamped on arrival.
    Reconnects with Last-Event-ID if the stream ends."""

    url: str
    headers: dict[str, str]
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set on each post event
    error: str | None = None  # set when the endpoint is not there
    last_id: str | None = None
    events: int = 0
    pings: int = 0
    duplicates: int = 0
    unmatched: int = 0
    reconnects: int = 0

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                headers = self.headers | {"Accept": "text/event-stream"}
                if self.last_id is not None:
                    headers["Last-Event-ID"] = self.last_id
                try:
                    async with http.get(self.url, headers=headers) as resp:
                        kind = resp.headers.get("Content-Type", "")
                        if resp.status != 200 or not kind.startswith("text/event-stream"):
                            self.error = f"HTTP {resp.status} {kind or '(no content type)'}"
                            self.ready.set()
                            return
                        await self._read(resp.content)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    print(f"  SSE stream dropped: {exc!r}; reconnecting", flush=True)
                self.reconnects += 1
                await asyncio.sleep(0.1)

    async def _read(self, content: aiohttp.StreamReader) -> None:
        kind, data, event_id = "message", list[str](), None
        async for raw in content:
            line = raw.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data:
                    self._dispatch(kind, "\n".join(data), event_id)
                kind, data, event_id = "message", [], None
            elif line.startswith(":"):
                self.pings += 1
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    kind = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    event_id = value

    def _dispatch(self, kind: str, data: str, event_id: str | None) -> None:
        now = Arrival(time.perf_counter(), time.time())
        if event_id is not None:
            self.last_id = event_id
        if kind == "ready":
            self.ready.set()
            return
        if kind != "post":
            return
        self.events += 1
        self.arrived.set()
        match = NONCE_RE.search(json.loads(data).get("html", ""))
        if match is None:
            self.unmatched += 1
        elif match.group(0) in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[match.group(0)] = now

    async def wait_for(self, nonces: set[str], seconds: float) -> None:
        """Until every nonce has arrived, or `seconds` have passed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not nonces <= self.arrivals.keys():
                    self.arrived.clear()
                    await self.arrived.wait()


# --- load ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Sent:
    nonce: str
    scheduled: float
    sent: float = 0.0
    sent_wall: float = 0.0
    response_s: float = 0.0
    status: int = 0
    error: str | None = None


def pct(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    p50, p99 = (ms[int(q * (len(ms) - 1))] for q in (0.5, 0.99))
    return {"n": len(ms), "p50_ms": p50, "p99_ms": p99, "max_ms": ms[-1]}


async def hello_ceiling(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    """Ceiling (1): open-loop GETs at a steady rate, through the posters' own client."""
    times: list[float] = []
    start = time.perf_counter() + 0.1

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / HELLO_RATE - time.perf_counter()))
        began = time.perf_counter()
        async with http.get(base + "/") as resp:
            await resp.read()
        times.append(time.perf_counter() - began)

    await asyncio.gather(*(one(i) for i in range(50)))  # warm-up: connections open
    times.clear()
    start = time.perf_counter() + 0.1
    await asyncio.gather(*(one(i) for i in range(HELLO_REQUESTS)))
    return pct(times)


async def post_phase(
    http: aiohttp.ClientSession,
    base: str,
    posters: list[Person],
    nonces: list[str],
    rate: float,
    stream: LiveStream | None,
    grace: float,
    pids: dict[str, int | None],
) -> tuple[list[Sent], dict[str, float]]:
    """Post i is due at start + i/rate, from poster i mod P; each poster posts one at a time
    (as a person does), so a slow server shows up as schedule lag, not as a burst. Also
    returns the cores each process used meanwhile (CPU seconds / wall seconds)."""
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    wall = time.perf_counter()
    start = time.perf_counter() + 0.2
    sends = [Sent(nonce, start + i / rate) for i, nonce in enumerate(nonces)]

    async def poster(k: int) -> None:
        person = posters[k]
        for s in sends[k :: len(posters)]:
            await asyncio.sleep(max(0.0, s.scheduled - time.perf_counter()))
            content = f"e2e latency bench {s.nonce} from {person.name}"
            s.sent, s.sent_wall = time.perf_counter(), time.time()
            try:
                async with http.post(
                    base + "/posts",
                    data={"content": content, "csrf_token": person.csrf_token},
                    headers=person.headers,
                    allow_redirects=False,
                ) as resp:
                    await resp.read()
                    s.status = resp.status
                    if resp.status != 303:
                        s.error = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                s.error = repr(exc)
            s.response_s = time.perf_counter() - s.sent

    await asyncio.gather(*(poster(k) for k in range(min(len(posters), len(sends)))))
    if stream is not None:
        await stream.wait_for({s.nonce for s in sends if s.error is None}, grace)
    wall = time.perf_counter() - wall
    return sends, {name: (cpu_seconds(pids[name]) - cpu[name]) / wall for name in pids}


def summarise(
    sends: list[Sent], stream: LiveStream | None, cores: dict[str, float]
) -> dict[str, Any]:
    ok = [s for s in sends if s.error is None]
    arrived = [] if stream is None else [s for s in ok if s.nonce in stream.arrivals]
    latency = [] if stream is None else [stream.arrivals[s.nonce].perf - s.sent for s in arrived]
    errors = [s.error for s in sends if s.error]
    tenths = []  # latency over the run: is there a backlog building up?
    for i in range(10):
        part = [
            stream.arrivals[s.nonce].perf - s.sent
            for s in arrived[i * len(arrived) // 10 : (i + 1) * len(arrived) // 10]
            if stream is not None
        ]
        tenths.append(pct(part))
    first = sends[0].sent if sends else 0.0
    return {
        "posts": len(sends),
        "post_errors": len(errors),
        "first_post_error": errors[0] if errors else None,
        "missing": None if stream is None else len(ok) - len(arrived),
        "latency": pct(latency),
        "post_response": pct([s.response_s for s in ok]),
        "schedule_lag_max_ms": max((s.sent - s.scheduled) * 1000 for s in sends),
        "cores_used": cores,
        "latency_by_tenth": tenths,
        # [s since the first POST, POST response ms, SSE latency ms or None]: one per post.
        "samples": [
            [
                round(s.sent - first, 4),
                round(s.response_s * 1000, 2),
                round((stream.arrivals[s.nonce].perf - s.sent) * 1000, 2)
                if stream is not None and s.nonce in stream.arrivals
                else None,
            ]
            for s in sends
        ],
    }


# --- where the time goes: timestamps the servers wrote ------------------------------------


async def breakdown(
    a: Instance | None, b: Instance, sends: list[Sent], stream: LiveStream | None
) -> dict[str, dict[str, float]]:
    """Per post, from the databases' own timestamps (same machine, same wall clock):
    POST sent → post row on the origin → inbox row on b → processed on b → SSE arrival."""
    by_nonce = {s.nonce: s for s in sends if s.error is None}
    created: dict[str, float] = {}  # nonce → post row's created_at on the origin
    creates: dict[str, str] = {}  # Create activity id → nonce
    engine = make_engine((a or b).url)
    try:
        async with engine.connect() as conn:
            query = select(Post.id, Post.content_source, Post.created_at).where(Post.local)
            ids: dict[int, str] = {}
            for post_id, source, row_at in await conn.execute(query):
                match = NONCE_RE.search(source or "")
                if match and match.group(0) in by_nonce:
                    ids[post_id], created[match.group(0)] = match.group(0), row_at.timestamp()
            if a is not None:
                query_c = select(OutboxActivity.activity_id, OutboxActivity.post_id)
                query_c = query_c.where(OutboxActivity.activity_type == "Create")
                for activity_id, of_post in await conn.execute(query_c):
                    if of_post is not None and of_post in ids:
                        creates[activity_id] = ids[of_post]
    finally:
        await engine.dispose()
    inbox: dict[str, tuple[float, float | None]] = {}  # nonce → received, processed on b
    if a is not None:
        engine = make_engine(b.url)
        try:
            async with engine.connect() as conn:
                query_i = select(
                    InboxActivity.activity_id, InboxActivity.received_at, InboxActivity.processed_at
                ).where(InboxActivity.activity_type == "Create")
                for inbox_id, received_at, processed_at in await conn.execute(query_i):
                    if inbox_id in creates:
                        done = processed_at.timestamp() if processed_at else None
                        inbox[creates[inbox_id]] = (received_at.timestamp(), done)
        finally:
            await engine.dispose()
    segments: dict[str, list[float]] = {}

    def add(name: str, start: float | None, end: float | None) -> None:
        if start is not None and end is not None:
            segments.setdefault(name, []).append(end - start)

    for nonce, at in created.items():
        arrival = stream.arrivals.get(nonce) if stream else None
        end = arrival.wall if arrival else None
        add("POST sent -> post row on origin", by_nonce[nonce].sent_wall, at)
        if a is None:
            add("post row -> SSE arrival", at, end)
            continue
        received, processed = inbox.get(nonce, (None, None))
        add("post row on a -> inbox row on b (delivery)", at, received)
        add("inbox row -> processed on b", received, processed)
        add("processed on b -> SSE arrival", processed, end)
    return {name: pct(values) for name, values in segments.items()}


async def queues(a: Instance, b: Instance) -> dict[str, Any]:
    """How the queues ended: a's deliveries and b's inbox rows, by outcome."""
    result: dict[str, Any] = {}
    engine = make_engine(a.url)
    try:
        async with engine.connect() as conn:
            query = select(
                Delivery.state, Delivery.attempts, Delivery.last_status, func.count()
            ).group_by(Delivery.state, Delivery.attempts, Delivery.last_status)
            result["deliveries_on_a"] = [
                {"state": st, "attempts": n, "last_status": code, "count": c}
                for st, n, code, c in await conn.execute(query)
            ]
            query_e = select(Delivery.last_error).where(Delivery.last_error.is_not(None))
            result["first_delivery_error"] = (await conn.execute(query_e.limit(1))).scalar()
    finally:
        await engine.dispose()
    engine = make_engine(b.url)
    try:
        async with engine.connect() as conn:
            processed = InboxActivity.processed_at.is_not(None)
            query_i = select(processed, InboxActivity.attempts, func.count())
            query_i = query_i.group_by(processed, InboxActivity.attempts)
            result["inbox_on_b"] = [
                {"processed": bool(done), "attempts": n, "count": c}
                for done, n, c in await conn.execute(query_i)
            ]
            query_e = select(InboxActivity.error).where(InboxActivity.error.is_not(None))
            result["first_inbox_error"] = (await conn.execute(query_e.limit(1))).scalar()
    finally:
        await engine.dispose()
    return result


# --- the run ------------------------------------------------------------------------------


def line(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:<44} n={s['n']:<5} p50 {s['p50_ms']:8.1f} ms   p99 {s['p99_ms']:8.1f} ms"
        f"   max {s['max_ms']:8.1f} ms"
    )


def report_phase(name: str, result: dict[str, Any]) -> None:
    print(line(name, result["latency"]), flush=True)
    print(line("    (POST /posts response)", result["post_response"]))
    tenths = result["latency_by_tenth"]
    if tenths[0]["n"]:
        print("    p50 / max ms by tenth of the run: ", end="")
        print("  ".join(f"{t['p50_ms']:.0f}/{t['max_ms']:.0f}" for t in tenths if t["n"]))
    cores = ", ".join(f"{k} {v:.2f}" for k, v in result["cores_used"].items())
    print(f"    CPU cores used meanwhile: {cores} (of {os.cpu_count()})")
    if result["schedule_lag_max_ms"] > 100:
        print(
            f"    posters fell behind the schedule by up to {result['schedule_lag_max_ms']:.0f} ms"
        )
    if result["post_errors"]:
        print(f"    FAILED POSTS: {result['post_errors']} (first: {result['first_post_error']})")
    if result["missing"]:
        print(
            f"    MISSING: {result['missing']} of {result['posts']} posts never reached the stream"
        )


async def stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    # SIGTERM (`timeout`, CI) cleans up as Ctrl-C does: the main task is cancelled.
    main_task = asyncio.current_task()
    if main_task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    a, b = lab(tmp)
    tag = secrets.token_hex(3)
    began = time.perf_counter()
    posters = await make_people(a, (f"poster{i}" for i in range(args.posters)))
    names = ["reader", *(f"local{i}" for i in range(args.local_posters))]
    reader, *locals_ = await make_people(b, names)
    print(f"created {len(posters) + len(names)} accounts in {time.perf_counter() - began:.1f} s")
    hello_port = free_port()
    hello_cmd = [sys.executable, str(SCRIPT), "--hello-port", str(hello_port)]
    serve = [sys.executable, "-m", "kizuna", "serve"]
    result: dict[str, Any] = {}
    connector = aiohttp.TCPConnector(limit=args.posters + args.local_posters + 20)
    async with AsyncExitStack() as stack:
        hello = await stack.enter_async_context(
            server(hello_cmd, dict(os.environ), tmp / "hello.log", hello_port)
        )
        server_a = await stack.enter_async_context(server(serve, a.env, a.log, a.port))
        server_b = await stack.enter_async_context(server(serve, b.env, b.log, b.port))
        base_a, base_b = server_a.base, server_b.base
        pids = {"a.test": server_a.pid, "b.test": server_b.pid, "bench": None}
        http = await stack.enter_async_context(
            aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # cookies go in headers, per person
                timeout=aiohttp.ClientTimeout(total=60),
            )
        )
        try:
            await asyncio.gather(
                *(fetch_csrf(http, base_a, p) for p in posters),
                *(fetch_csrf(http, base_b, p) for p in (reader, *locals_)),
            )
            began = time.perf_counter()
            handles = [*(p.name for p in locals_), *(f"{p.name}@a.test" for p in posters)]
            await follow_all(http, base_b, reader, handles)
            engine_b = make_engine(b.url)
            try:
                waited = await wait_accepted(engine_b, reader, len(handles), 120)
            finally:
                await engine_b.dispose()
            print(
                f"reader@b.test follows {len(handles)} accounts ({len(posters)} on a.test): "
                f"requested and accepted in {time.perf_counter() - began:.1f} s "
                f"(acceptance wait {waited:.1f} s)",
                flush=True,
            )
            stream = LiveStream(base_b + "/live/home", reader.headers)
            reading = asyncio.create_task(stream.run())
            # Unwound before the servers stop (LIFO): an open stream would hold up their exit.
            stack.push_async_callback(stop_task, reading)
            try:
                await asyncio.wait_for(stream.ready.wait(), 10)
            except TimeoutError:
                stream.error = "no `event: ready` within 10 s"
            live: LiveStream | None = stream
            if stream.error is not None:
                print(f"SSE /live/home on b.test unavailable ({stream.error}): the posts run")
                print("anyway (POST figures only); no latency can be measured.", flush=True)
                live = None
            result["ceiling_hello"] = await hello_ceiling(http, hello.base)
            print(f"\n{args.posts} posts on a.test from {args.posters} posters at {args.rate}/s;")
            print("reader@b.test follows them and reads /live/home (loopback, SQLite)\n")
            print(line("ceiling 1: loopback HTTP round trip", result["ceiling_hello"]), flush=True)
            local_nonces = [f"kz{tag}l{i:05d}" for i in range(args.local_posts)]
            local, cores = await post_phase(
                http, base_b, locals_, local_nonces, args.rate, live, args.timeout, pids
            )
            result["local"] = summarise(local, live, cores)
            report_phase("ceiling 2: post on b -> SSE on b (local)", result["local"])
            remote_nonces = [f"kz{tag}r{i:05d}" for i in range(args.posts)]
            remote, cores = await post_phase(
                http, base_a, posters, remote_nonces, args.rate, live, args.timeout, pids
            )
            result["remote"] = summarise(remote, live, cores)
            report_phase("figure:    post on a -> SSE on b (federated)", result["remote"])
            if live is not None:
                result["stream"] = {
                    "events": live.events,
                    "pings": live.pings,
                    "duplicates": live.duplicates,
                    "unmatched": live.unmatched,
                    "reconnects": live.reconnects,
                }
        except Exception:
            for instance in (a, b):
                print(f"--- tail of {instance.log.name} ---\n{tail(instance.log)}", file=sys.stderr)
            raise
    # The servers have stopped: their databases say where the time went.
    result["breakdown_local"] = await breakdown(None, b, local, live)
    result["breakdown_remote"] = await breakdown(a, b, remote, live)
    result["queues"] = await queues(a, b)
    return result


def conclude(result: dict[str, Any]) -> None:
    for key, title in (("breakdown_local", "local"), ("breakdown_remote", "federated")):
        if result.get(key):
            print(f"\nwhere the time goes, {title} (server timestamps, same clock):")
            for name, s in result[key].items():
                print(line(name, s))
    q = result["queues"]
    print("\nqueues at the end (state, attempts, last HTTP status: rows):")
    print(
        "  deliveries on a.test: "
        + ", ".join(
            f"{d['state']}/{d['attempts']}/{d['last_status']}: {d['count']}"
            for d in q["deliveries_on_a"]
        )
    )
    print(
        "  inbox rows on b.test: "
        + ", ".join(
            f"{'processed' if i['processed'] else 'pending'}/{i['attempts']}: {i['count']}"
            for i in q["inbox_on_b"]
        )
    )
    for key in ("first_delivery_error", "first_inbox_error"):
        if q[key]:
            print(f"  {key.replace('_', ' ')}: {q[key][:300]}")
    figure = result["remote"]
    print(
        f"\ntarget: p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms "
        "(post on a -> SSE on b, loopback)"
    )
    if figure["missing"] is None:
        print("  not measured: no SSE stream")
        return
    lat = figure["latency"]
    p50_ok, p99_ok = lat["p50_ms"] <= TARGET_P50_MS, lat["p99_ms"] <= TARGET_P99_MS
    print(f"  p50 {lat['p50_ms']:.1f} ms: {'met' if p50_ok else 'NOT met'}")
    print(f"  p99 {lat['p99_ms']:.1f} ms: {'met' if p99_ok else 'NOT met'}")
    missing = figure["missing"] + result["local"]["missing"]
    print(f"  missing posts: {missing}" + ("  <-- FAILURE" if missing else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=1000, help="posts on a.test")
    parser.add_argument("--posters", type=int, default=200, help="accounts posting on a.test")
    parser.add_argument("--rate", type=float, default=50.0, help="posts per second, overall")
    parser.add_argument("--local-posts", type=int, default=200, help="posts on b (ceiling 2)")
    parser.add_argument("--local-posters", type=int, default=20, help="accounts posting on b")
    parser.add_argument("--timeout", type=float, default=10.0, help="s after the last post")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    parser.add_argument("--hello-port", type=int, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.hello_port is not None:
        run_hello(args.hello_port)
        return
    tmp = Path(tempfile.mkdtemp(prefix="kizuna-e2e-"))
    load_before = os.getloadavg()[0]
    try:
        result = asyncio.run(run(args, tmp))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if args.keep:
            print(f"kept databases and logs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    conclude(result)
    # Other work on the machine moves every figure: the 1-minute load, before and after.
    result["load_average"] = [load_before, os.getloadavg()[0]]
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ", end="")
    print(f"({os.cpu_count()} CPUs; the three processes and this client share them)")
    settings = {k: v for k, v in vars(args).items() if k != "hello_port"}
    machine = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(machine | {"args": settings} | result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
