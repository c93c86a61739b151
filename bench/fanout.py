"""Fan-out of one post to many remote followers by `kizuna worker` processes, next to the RSA
signing ceiling of this machine.

A post is created through kizuna's own `PostService.create`, which writes the post and one
delivery row per target inbox in one transaction. Then W `python -m kizuna worker` processes
deliver the rows to a sink on loopback. The sink stands in for every remote server (all of
them map to it through the federation host map), verifies each HTTP signature with kizuna's
`verify_request` and counts what arrived. Two scenarios:

- shared: 10,000 followers on 200 servers that each have a shared inbox, so 200 deliveries;
- unshared: 2,000 followers on a few servers without a shared inbox, so 2,000 deliveries.

The ceiling is RSA-2048 PKCS#1 v1.5 SHA-256 signing in one process, times min(W, CPUs).
Nothing here asserts: it prints a table and writes bench/results/fanout.json.

    python bench/fanout.py [--followers 10000] [--servers 200] [--unshared 2000]
                           [--unshared-domains 8] [--workers 1,2,4] [--timeout 300]
                           [--backend sqlite|postgresql|all] [--latency] [--backlog 2000]

--latency adds, per backend, the time from a new post's commit to its arrival at every
server (the shared scenario) for one in-process worker: on an empty queue, then with
--backlog rows due (retries and bulk work) and a server that hangs until the fetch timeout.

PostgreSQL runs when KIZUNA_TEST_DATABASE_URL is set: a throw-away database is created on that
server and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from inbox import only
from sqlalchemy import Table, case, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from timeline import child_pids, cpu_seconds, free_port, pg_database, server

from kizuna.activitypub.errors import SignatureError
from kizuna.activitypub.ids import user_urls
from kizuna.app import http_session
from kizuna.config import Config
from kizuna.container import Services
from kizuna.federation.delivery import PER_DOMAIN
from kizuna.federation.signatures import (
    PrivateKeyType,
    PublicKey,
    key_id_of,
    load_private_key_pem,
    load_public_key_pem,
    sign_cavage,
    verify_request,
)
from kizuna.storage import queue
from kizuna.storage.engine import Database, make_engine, migrate
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Delivery, Follow, OutboxActivity, PeerDomain

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "fanout.json"
PG_ENV = "KIZUNA_TEST_DATABASE_URL"
ACCOUNTS, FOLLOWS, PEERS, DELIVERIES, OUTBOX = (
    cast(Table, m.__table__) for m in (Account, Follow, PeerDomain, Delivery, OutboxActivity)
)
CHUNK = 5000  # rows per executemany
DOMAIN = "kizuna.test"  # the local instance; its ids are https://kizuna.test/…
AUTHOR = "author"
READY = "kizuna worker: delivering"  # what `kizuna worker` prints once it runs
POLL = 0.2  # seconds between looks at the sink and the deliveries table
TEXT = "ファンアウト計測の投稿 #{n}: one post, many inboxes."
SLOW = "slow.test"  # the sink holds its requests open: a server that hangs


def shared_domain(i: int, servers: int) -> str:
    return f"s{i % servers}.test"


def unshared_domain(j: int, domains: int) -> str:
    return f"p{j % domains}.test"


# --- the sink: every simulated server, in a child process ---------------------------------


@dataclass(slots=True)
class Arrivals:
    """What the sink accepted for one activity id."""

    inboxes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (host, path) -> count
    first: float = 0.0  # time.time() of the first and last accepted delivery
    last: float = 0.0


def run_sink(port: int, key_file: Path, key_id: str) -> None:
    """POST to any path: verify the signature against the author's key for the URL
    https://{Host}{path}, count per activity and inbox, answer 202 (401 when it does not
    verify, as a real server would). GET /stats?activity=ID[&full=1][&since=N] reports the
    counts, and the first invalid request after the first N."""
    key = PublicKey(key_id=key_id, owner=None, key=load_public_key_pem(key_file.read_text()))
    arrivals: dict[str, Arrivals] = {}
    invalid: Counter[tuple[str, str]] = Counter()
    errors: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        host, path = request.headers.get("Host", ""), request.raw_path
        if host == SLOW:
            await asyncio.sleep(3600)  # until the sender's fetch timeout gives up
        try:
            _scheme, signed_by = key_id_of(request.headers)
            if signed_by != key_id:
                raise SignatureError(f"unexpected keyId {signed_by}")
            verify_request(
                method=request.method,
                url=f"https://{host}{path}",
                headers=request.headers,
                body=body,
                public_key=key,
                now=datetime.now(UTC),
            )
            doc = json.loads(body)
            activity = doc.get("id") if isinstance(doc, dict) else None
            if not isinstance(activity, str):
                raise SignatureError("no activity id in the body")  # counted with the invalid
        except (SignatureError, ValueError) as exc:
            invalid[host, path] += 1
            errors.append(f"{host}{path}: {exc}")
            return web.json_response({"error": str(exc)}, status=401)
        now = time.time()
        seen = arrivals.setdefault(activity, Arrivals(first=now))
        seen.inboxes[host, path] += 1
        seen.last = now
        return web.Response(status=202)

    async def stats(request: web.Request) -> web.Response:
        seen = arrivals.get(request.query.get("activity", ""), Arrivals())
        out: dict[str, Any] = dict(accepted=seen.inboxes.total(), inboxes=len(seen.inboxes))
        out |= dict(first=seen.first, last=seen.last, invalid=invalid.total())
        since = int(request.query.get("since", "0"))  # the first error after that many
        out |= dict(first_invalid=errors[since] if len(errors) > since else None)
        if request.query.get("full"):
            out["counts"] = [[h, p, n] for (h, p), n in seen.inboxes.items()]
        return web.json_response(out)

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/{tail:.*}", inbox)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- ceilings -----------------------------------------------------------------------------


def raw_sign_rate(key: PrivateKeyType, seconds: float) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second: `cryptography`, one process, a tight
    loop over a signing string of the size kizuna's cavage signatures cover."""
    assert isinstance(key, RSAPrivateKey)
    message = (
        b"(request-target): post /users/u1/inbox\nhost: s1.test\n"
        b"date: Sat, 28 Nov 2026 10:00:00 GMT\n"
        b"digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        b"content-type: application/activity+json"
    )
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for _ in range(50):
            key.sign(message, pkcs1, sha256)
        count += 50
    return count / elapsed


def sign_cavage_rate(key: PrivateKeyType, key_id: str, seconds: float) -> float:
    """kizuna's `sign_cavage` in-process (digest, date, signing string, RSA): no HTTP."""
    body = json.dumps({"id": "x", "content": "<p>" + "a" * 900 + "</p>"}).encode()
    headers = {"Content-Type": "application/activity+json"}
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for _ in range(50):
            sign_cavage(
                method="POST",
                url="https://s1.test/inbox",
                headers=headers,
                body=body,
                key_id=key_id,
                private_key=key,
                now=datetime.now(UTC),
            )
        count += 50
    return count / elapsed


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    author: Account
    private_pem: str
    seconds: float


async def seed(engine: AsyncEngine, config: Config, args: argparse.Namespace) -> Seeded:
    """The author through kizuna's own `create_user` (a real key pair), the instance actor
    (or each worker would race to create it), then Core bulk inserts: the remote followers,
    their accepted follows and one peer_domains row per server, as an instance that has
    delivered to these servers before would have."""
    began = time.perf_counter()
    async with aiohttp.ClientSession() as http:  # build() wants one; nothing is fetched
        accounts = Services.build(config, Database(engine), http).accounts
        await accounts.instance_actor()
        author = (await accounts.create_user(AUTHOR, "bench-password")).account
    assert author.private_key_pem is not None
    now = datetime.now(UTC)
    common: dict[str, Any] = dict(actor_type="Person", note="", note_html="", locked=False)
    common |= dict(discoverable=True, fetched_at=now, created_at=now, updated_at=now)
    rows: list[dict[str, Any]] = []
    for i in range(args.followers):  # uK on sN.test, each server with a shared inbox
        domain = shared_domain(i, args.servers)
        rows.append(follower_row(f"u{i}", domain, f"https://{domain}/inbox") | common)
    for j in range(args.unshared):  # vK on pN.test, no shared inbox: one delivery each
        rows.append(follower_row(f"v{j}", unshared_domain(j, args.unshared_domains), None) | common)
    follows = [
        dict(id=new_id(), account_id=row["id"], target_account_id=author.id, state="accepted")
        | dict(uri=None, created_at=now)
        for row in rows
    ]
    domains = sorted({row["domain"] for row in rows})
    peers = [
        dict(domain=d, signature_scheme="cavage", updated_at=now, unavailable=False)
        | dict(failing_since=None, next_probe_at=None, last_success_at=now)
        for d in domains
    ]
    async with engine.begin() as conn:
        for table, batch in ((ACCOUNTS, rows), (FOLLOWS, follows), (PEERS, peers)):
            for first in range(0, len(batch), CHUNK):
                await conn.execute(insert(table), batch[first : first + CHUNK])
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE"))
    return Seeded(author, author.private_key_pem, time.perf_counter() - began)


def follower_row(name: str, domain: str, shared_inbox: str | None) -> dict[str, Any]:
    actor = f"https://{domain}/users/{name}"
    return (
        dict(id=new_id(), username=name, username_key=name, domain=domain, uri=actor)
        | dict(url=f"https://{domain}/@{name}", display_name=name)
        | dict(inbox_url=f"{actor}/inbox", shared_inbox_url=shared_inbox)
        | dict(followers_url=f"{actor}/followers", public_key_id=f"{actor}#main-key")
    )


async def select_followers(engine: AsyncEngine, author_id: int, shared: bool) -> None:
    """Only one group follows the author at a time: the other's follows become pending."""
    has_shared = ACCOUNTS.c.shared_inbox_url.is_not(None)
    group = select(ACCOUNTS.c.id).where(
        has_shared if shared else ACCOUNTS.c.shared_inbox_url.is_(None)
    )
    state = case((FOLLOWS.c.account_id.in_(group), "accepted"), else_="pending")
    async with engine.begin() as conn:
        await conn.execute(
            update(FOLLOWS).where(FOLLOWS.c.target_account_id == author_id).values(state=state)
        )


def expected_inboxes(scenario: str, args: argparse.Namespace) -> set[tuple[str, str]]:
    """(Host, path) of every inbox one post must reach, from the seed's own rules."""
    if scenario == "shared":
        return {(shared_domain(i, args.servers), "/inbox") for i in range(args.followers)}
    return {
        (unshared_domain(j, args.unshared_domains), f"/users/v{j}/inbox")
        for j in range(args.unshared)
    }


async def delivery_states(engine: AsyncEngine, outbox_id: int) -> dict[str, int]:
    stmt = (
        select(DELIVERIES.c.state, func.count())
        .where(DELIVERIES.c.outbox_activity_id == outbox_id)
        .group_by(DELIVERIES.c.state)
    )
    async with engine.connect() as conn:
        return {state: int(n) for state, n in (await conn.execute(stmt)).all()}


async def retried_rows(engine: AsyncEngine, outbox_id: int) -> int:
    """Rows that took more than one attempt (a timeout or refused connection on the way)."""
    stmt = select(func.count()).where(
        DELIVERIES.c.outbox_activity_id == outbox_id, DELIVERIES.c.attempts != 1
    )
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def outbox_activity(engine: AsyncEngine, post_id: int) -> tuple[int, str]:
    stmt = select(OUTBOX.c.id, OUTBOX.c.activity_id).where(
        OUTBOX.c.post_id == post_id, OUTBOX.c.activity_type == "Create"
    )
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).one()
    return int(row[0]), str(row[1])


# --- worker processes ---------------------------------------------------------------------


@dataclass(slots=True)
class Worker:
    proc: asyncio.subprocess.Process
    log: Path
    rss_ready_kb: int = 0


def status_kb(pid: int, name: str) -> int | None:
    """A memory line of /proc/PID/status (VmRSS, VmHWM), in kB; None when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


@asynccontextmanager
async def workers(
    count: int, env: dict[str, str], tmp: Path, tag: str
) -> AsyncIterator[list[Worker]]:
    """Start `count` `kizuna worker` processes, yield them once each has said it runs, and
    always stop them (SIGTERM: they finish their cycle and exit)."""
    started: list[Worker] = []
    try:
        for i in range(count):
            log = tmp / f"worker-{tag}-{i}.log"
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "kizuna", "worker", env=env, cwd=tmp, stdout=fd, stderr=fd
                )
            finally:
                os.close(fd)
            started.append(Worker(proc, log))
        deadline = time.perf_counter() + 60
        waiting = list(started)
        while waiting:
            for worker in list(waiting):
                if READY in worker.log.read_text(errors="replace"):
                    worker.rss_ready_kb = status_kb(worker.proc.pid, "VmRSS") or 0
                    waiting.remove(worker)
                elif worker.proc.returncode is not None:
                    raise RuntimeError(f"a worker exited:\n{tail(worker.log)}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"a worker did not start in 60 s:\n{tail(waiting[0].log)}")
            await asyncio.sleep(0.05)
        yield started
    finally:
        for worker in started:
            if worker.proc.returncode is None:
                worker.proc.terminate()
        for worker in started:
            try:
                await asyncio.wait_for(worker.proc.wait(), 10)
            except TimeoutError:
                worker.proc.kill()
                await worker.proc.wait()


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def worker_env(url: str, tmp: Path, hosts: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    env |= dict(KIZUNA_DATABASE_URL=url, KIZUNA_DOMAIN=DOMAIN, KIZUNA_SECRET="bench")
    env |= dict(KIZUNA_MEDIA_DIR=str(tmp / "media"), KIZUNA_FEDERATION_HOSTS=hosts)
    env |= dict(KIZUNA_ALLOW_PRIVATE_ADDRESSES="1")
    return env


# --- one post, delivered by W workers -----------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Context:
    engine: AsyncEngine
    services: Services
    author: Account
    sink: str  # base URL of the sink
    sink_pid: int | None
    env: dict[str, str]
    tmp: Path
    sign_rate: float  # one process
    cpus: int
    posts: Iterator[int]


async def sink_stats(
    http: aiohttp.ClientSession, ctx: Context, activity: str, full: bool = False, since: int = 0
) -> dict[str, Any]:
    params = {"activity": activity, "since": str(since)} | ({"full": "1"} if full else {})
    async with http.get(ctx.sink + "/stats", params=params) as resp:
        answer: dict[str, Any] = await resp.json()
        return answer


async def deliver_one_post(
    backend: str, scenario: str, count: int, ctx: Context, args: argparse.Namespace
) -> dict[str, Any]:
    expected = expected_inboxes(scenario, args)
    followers = args.followers if scenario == "shared" else args.unshared
    async with (
        workers(count, ctx.env, ctx.tmp, f"{backend}-{scenario}-{count}") as procs,
        aiohttp.ClientSession() as http,
    ):
        pids = [w.proc.pid for w in procs]
        cpu_before = [cpu_seconds(pid) for pid in pids]
        sink_cpu_before = cpu_seconds(ctx.sink_pid)
        invalid_before = int((await sink_stats(http, ctx, ""))["invalid"])  # the sink's total
        began = time.perf_counter()
        post = await ctx.services.posts.create(ctx.author, TEXT.format(n=next(ctx.posts)))
        committed = time.time()
        enqueue_ms = (time.perf_counter() - began) * 1000
        outbox_id, activity = await outbox_activity(ctx.engine, post.id)
        states = await delivery_states(ctx.engine, outbox_id)
        rows = sum(states.values())
        deadline = time.perf_counter() + args.timeout
        timed_out = False
        while True:
            seen = await sink_stats(http, ctx, activity)
            states = await delivery_states(ctx.engine, outbox_id)
            delivered = states.get("delivered", 0)
            if seen["accepted"] >= len(expected) and delivered == rows:
                break
            if not states.get("pending"):  # everything settled, some not delivered
                break
            if time.perf_counter() > deadline:
                timed_out = True
                break
            await asyncio.sleep(POLL)
        settled = time.time()
        cpu_after = [cpu_seconds(pid) for pid in pids]
        sink_cpu_after = cpu_seconds(ctx.sink_pid)
        peaks = [status_kb(pid, "VmHWM") or 0 for pid in pids]
        ready = [w.rss_ready_kb for w in procs]
        full = await sink_stats(http, ctx, activity, full=True, since=invalid_before)
    got = {(h, p): n for h, p, n in full["counts"]}
    accepted = int(full["accepted"])
    first, last = float(full["first"]), float(full["last"])
    deliver_s = last - first if accepted > 1 else 0.0
    rate = (accepted - 1) / deliver_s if deliver_s > 0 else 0.0
    ceiling = ctx.sign_rate * min(count, ctx.cpus)
    spent = [
        b - a for a, b in zip(cpu_before, cpu_after, strict=True) if a is not None and b is not None
    ]
    worker_cpu = sum(spent) if len(spent) == len(pids) else None
    sink_cpu = (
        sink_cpu_after - sink_cpu_before
        if sink_cpu_before is not None and sink_cpu_after is not None
        else None
    )
    row: dict[str, Any] = dict(backend=backend, scenario=scenario, workers=count)
    row |= dict(followers=followers, expected_inboxes=len(expected), delivery_rows=rows)
    row |= dict(enqueue_ms=enqueue_ms, delivered=accepted)
    row |= dict(pickup_s=first - committed if accepted else None)
    row |= dict(deliver_s=deliver_s, all_delivered_s=last - committed if accepted else None)
    row |= dict(settled_s=settled - committed, deliveries_per_s=rate)
    row |= dict(end_to_end_per_s=accepted / (last - committed) if accepted else 0.0)
    row |= dict(sign_ceiling_per_s=ceiling, ratio=rate / ceiling)
    row |= dict(worker_cpu_ms_per_delivery=per_delivery(worker_cpu, accepted))
    row |= dict(sink_cpu_ms_per_delivery=per_delivery(sink_cpu, accepted))
    row |= dict(peak_rss_mb=max(peaks) / 1024, ready_rss_mb=max(ready) / 1024)
    row |= dict(peak_rss_mb_each=[round(kb / 1024, 1) for kb in peaks])
    row |= dict(duplicates=sum(n - 1 for n in got.values() if n > 1))
    row |= dict(missing=len(expected - got.keys()), unexpected=len(got.keys() - expected))
    row |= dict(
        invalid_signatures=int(full["invalid"]) - invalid_before,
        first_invalid=full["first_invalid"],
    )
    row |= dict(states=states, not_delivered=rows - states.get("delivered", 0))
    row |= dict(retried_rows=await retried_rows(ctx.engine, outbox_id), timed_out=timed_out)
    print_row(row)
    return row


def per_delivery(seconds: float | None, deliveries: int) -> float | None:
    return None if seconds is None or not deliveries else seconds * 1000 / deliveries


# --- a new post's latency: an empty queue, then a backlog and a server that hangs ------------


async def new_post_latency(
    ctx: Context, args: argparse.Namespace, url: str, port: int
) -> dict[str, Any]:
    """One in-process worker, woken in-process on commit as in `kizuna serve` (a `kizuna
    worker` elsewhere waits for its poll or a NOTIFY instead). A post to the shared
    scenario's servers on an empty queue, then again with `--backlog` rows due and
    PER_DOMAIN rows to a server that hangs until the fetch timeout (10 s)."""
    await select_followers(ctx.engine, ctx.author.id, True)
    expected = len(expected_inboxes("shared", args))
    domains = {host for host, _ in expected_inboxes("shared", args)}
    domains |= {host for host, _ in expected_inboxes("unshared", args)} | {SLOW}
    config = Config(
        domain=DOMAIN,
        database_url=url,
        secret="bench",
        media_dir=ctx.tmp / "media",
        federation_hosts={d: ("127.0.0.1", port) for d in domains},
        allow_private_addresses=True,
    )
    async with http_session(config) as http, aiohttp.ClientSession() as probe:
        services = Services.build(config, Database(ctx.engine), http)
        await services.start()
        stop = asyncio.Event()
        # Commits wake the worker (Services.run_live), as in `kizuna serve`.
        live = asyncio.ensure_future(services.run_live(stop))
        worker = asyncio.ensure_future(services.delivery.run_forever(stop))
        try:
            empty = await timed_post(services, ctx, probe, expected)
            rows = await insert_backlog(ctx.engine, ctx.author.id, args)
            services.delivery.wakeup.set()  # rows inserted by the bench itself: no commit hook
            await asyncio.sleep(0.5)  # the worker is into the backlog and the hanging server
            async with ctx.engine.connect() as conn:
                left = int(
                    (
                        await conn.execute(
                            select(func.count()).where(DELIVERIES.c.state == "pending")
                        )
                    ).scalar_one()
                )
            loaded = await timed_post(services, ctx, probe, expected)
        finally:
            stop.set()
            await worker
            await live
    print(
        f"new post to {expected} servers, one in-process worker: empty queue first "
        f"{num(empty[0], '.3f')} s, all {num(empty[1], '.3f')} s; with {rows} backlog rows "
        f"({left} still pending when posted) and {SLOW} hanging: first "
        f"{num(loaded[0], '.3f')} s, all {num(loaded[1], '.3f')} s",
        flush=True,
    )
    return dict(
        servers=expected,
        empty_first_s=empty[0],
        empty_all_s=empty[1],
        backlog_rows=rows,
        backlog_pending_at_post=left,
        loaded_first_s=loaded[0],
        loaded_all_s=loaded[1],
    )


async def timed_post(
    services: Services, ctx: Context, http: aiohttp.ClientSession, expected: int
) -> tuple[float | None, float | None]:
    """Seconds from the post's commit to its first and its last arrival at the sink."""
    post = await services.posts.create(ctx.author, TEXT.format(n=next(ctx.posts)))
    committed = time.time()
    _, activity = await outbox_activity(ctx.engine, post.id)
    deadline = time.perf_counter() + 60
    seen = await sink_stats(http, ctx, activity)
    while seen["accepted"] < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)  # the sink stamps arrivals itself: polling adds no error
        seen = await sink_stats(http, ctx, activity)
    if not seen["accepted"]:
        return None, None
    last = float(seen["last"]) - committed if seen["accepted"] >= expected else None
    return float(seen["first"]) - committed, last


async def insert_backlog(engine: AsyncEngine, author_id: int, args: argparse.Namespace) -> int:
    """`--backlog` rows due now to the unshared followers' inboxes, half retries and half
    bulk work, behind PER_DOMAIN older retries to the hanging server (claimed first)."""
    inboxes = [(f"https://{h}{p}", h) for h, p in sorted(expected_inboxes("unshared", args))]
    slow = [(f"https://{SLOW}/users/s{n}/inbox", SLOW) for n in range(PER_DOMAIN)]
    now = datetime.now(UTC)
    activities: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []

    def add(targets: list[tuple[str, str]], priority: int, due: datetime) -> None:
        activity = new_id()
        doc = {"id": f"https://{DOMAIN}/backlog/{activity}", "type": "Update"}
        activities.append(
            dict(id=activity, activity_id=doc["id"], activity_type="Update")
            | dict(account_id=author_id, post_id=None, raw=doc, created_at=due)
        )
        attempts = 0 if priority == queue.BULK else 1
        for inbox, domain in targets:
            deliveries.append(
                dict(id=new_id(), outbox_activity_id=activity, inbox_url=inbox, domain=domain)
                | dict(state="pending", priority=priority, attempts=attempts)
                | dict(next_attempt_at=due, created_at=due)
            )

    add(slow, queue.RETRY, now - timedelta(minutes=2))
    n = 0
    while len(deliveries) - len(slow) < args.backlog:
        wanted = args.backlog - (len(deliveries) - len(slow))
        add(inboxes[:wanted], queue.RETRY if n % 2 == 0 else queue.BULK, now - timedelta(minutes=1))
        n += 1
    async with engine.begin() as conn:
        await conn.execute(insert(OUTBOX), activities)
        for first in range(0, len(deliveries), CHUNK):
            await conn.execute(insert(DELIVERIES), deliveries[first : first + CHUNK])
    return len(deliveries)


# --- output -------------------------------------------------------------------------------

HEADER = (
    f"{'backend':<11}{'scenario':<9}{'W':>2}{'followers':>10}{'HTTP':>6}{'enqueue':>9}"
    f"{'pickup':>8}{'deliver':>8}{'all':>7}{'deliv/s':>8}{'ceiling':>8}{'ratio':>7}"
    f"{'cpu ms':>7}{'RSS MB':>7}{'dup':>4}{'miss':>5}{'bad':>4}{'undelivered':>12}"
)
UNITS = (
    f"{'':<22}{'':>10}{'':>6}{'ms':>9}{'s':>8}{'s':>8}{'s':>7}{'':>8}{'sign/s':>8}"
    f"{'':>7}{'/deliv':>7}{'peak':>7}"
)


def num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_row(r: dict[str, Any]) -> None:
    print(
        f"{r['backend']:<11}{r['scenario']:<9}{r['workers']:>2}{r['followers']:>10}"
        f"{r['delivered']:>6}{r['enqueue_ms']:>9.0f}{num(r['pickup_s'], '.2f'):>8}"
        f"{r['deliver_s']:>8.2f}{num(r['all_delivered_s'], '.2f'):>7}"
        f"{r['deliveries_per_s']:>8.0f}{r['sign_ceiling_per_s']:>8.0f}{r['ratio']:>7.3f}"
        f"{num(r['worker_cpu_ms_per_delivery'], '.2f'):>7}{r['peak_rss_mb']:>7.0f}"
        f"{r['duplicates']:>4}{r['missing']:>5}{r['invalid_signatures']:>4}"
        f"{r['not_delivered']:>12}"
        + (" TIMED OUT" if r["timed_out"] else "")
        + (f"\n    first invalid: {r['first_invalid']}" if r["first_invalid"] else ""),
        flush=True,
    )


def summarize(backend: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Memory of the workers, and the best ratio with several workers (the target: 0.5)."""
    if not rows:
        return {}
    ready = max(r["ready_rss_mb"] for r in rows)
    peak = max(r["peak_rss_mb"] for r in rows)
    several = [r for r in rows if r["workers"] > 1] or rows
    best = max(several, key=lambda r: r["ratio"])
    clean = all(
        not (r["duplicates"] or r["missing"] or r["unexpected"] or r["invalid_signatures"])
        and not (r["not_delivered"] or r["timed_out"])
        for r in rows
    )
    print(
        f"    {backend}: worker RSS {ready:.0f} MB once started, peak {peak:.0f} MB in any run "
        f"(+{peak - ready:.0f} MB). Best ratio with several workers: {best['ratio']:.3f} "
        f"({best['deliveries_per_s']:.0f}/s, {best['scenario']}, W={best['workers']}; target "
        f"0.5). Every inbox exactly once, all signatures valid, all rows delivered: "
        f"{'yes' if clean else 'NO'}",
        flush=True,
    )
    return dict(ready_rss_mb=ready, peak_rss_mb=peak, best_ratio=best["ratio"], clean=clean)


# --- one backend, then all ----------------------------------------------------------------


async def bench_backend(
    backend: str, url: str, args: argparse.Namespace, tmp: Path, shared: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    config = Config(domain=DOMAIN, database_url=url, secret="bench", media_dir=tmp / "media")
    engine = make_engine(url)
    try:
        await migrate(engine)
        seeded = await seed(engine, config, args)
        info: dict[str, Any] = dict(seed_seconds=seeded.seconds)
        print(
            f"{backend}: seeded {args.followers + args.unshared} followers in "
            f"{seeded.seconds:.1f} s",
            flush=True,
        )
        if "sign_rate" not in shared:  # once per run, with the author's own key
            key = load_private_key_pem(seeded.private_pem)
            key_id = user_urls(config.base_url, AUTHOR).key_id
            shared["sign_rate"] = raw_sign_rate(key, 2.0)
            shared["sign_cavage_rate"] = sign_cavage_rate(key, key_id, 1.0)
            cpus = os.cpu_count() or 1
            print(
                f"ceiling: raw RSA-2048 sign {shared['sign_rate']:.0f}/s in one process "
                f"(x {cpus} CPUs = {shared['sign_rate'] * cpus:.0f}/s); kizuna sign_cavage "
                f"in-process {shared['sign_cavage_rate']:.0f}/s",
                flush=True,
            )
        key_file = tmp / f"author-{backend}.pem"
        assert seeded.author.public_key_pem is not None
        key_file.write_text(seeded.author.public_key_pem)
        key_id = user_urls(config.base_url, AUTHOR).key_id
        port = free_port()
        cmd = [sys.executable, str(SCRIPT), "--sink-port", str(port), "--key", str(key_file)]
        cmd += ["--key-id", key_id]
        domains = {shared_domain(i, args.servers) for i in range(args.followers)}
        domains |= {unshared_domain(j, args.unshared_domains) for j in range(args.unshared)}
        domains.add(SLOW)
        hosts = ",".join(f"{d}=127.0.0.1:{port}" for d in sorted(domains))
        rows: list[dict[str, Any]] = []
        before = child_pids()
        async with (
            server(cmd, dict(os.environ), tmp / f"sink-{backend}.log", port) as sink,
            aiohttp.ClientSession() as http,
        ):
            ctx = Context(
                engine=engine,
                services=Services.build(config, Database(engine), http),
                author=seeded.author,
                sink=sink,
                sink_pid=only(child_pids() - before),
                env=worker_env(url, tmp, hosts),
                tmp=tmp,
                sign_rate=shared["sign_rate"],
                cpus=os.cpu_count() or 1,
                posts=iter(range(1, 1_000_000)),
            )
            print(HEADER + "\n" + UNITS, flush=True)
            for scenario in ("shared", "unshared"):
                if (args.followers if scenario == "shared" else args.unshared) <= 0:
                    continue
                await select_followers(engine, seeded.author.id, scenario == "shared")
                for count in args.workers:
                    rows.append(await deliver_one_post(backend, scenario, count, ctx, args))
            if args.latency and args.followers > 0 and args.unshared > 0:
                info["latency"] = await new_post_latency(ctx, args, url, port)
        info |= summarize(backend, rows)
        return info, rows
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    urls = {
        "sqlite": f"sqlite+aiosqlite:///{tmp / 'kizuna.db'}",
        "postgresql": os.environ.get(PG_ENV),
    }
    if args.backend == "postgresql" and not urls["postgresql"]:
        raise SystemExit(f"--backend postgresql needs {PG_ENV}")
    print(
        f"one post to {args.followers} followers on {args.servers} servers with a shared inbox "
        f"(shared), and to {args.unshared} followers without one on {args.unshared_domains} "
        f"servers (unshared); workers {','.join(map(str, args.workers))}",
        flush=True,
    )
    shared: dict[str, Any] = {}
    backends: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for backend, url in urls.items():
        if args.backend not in (backend, "all"):
            continue
        if not url:
            print(f"{backend}: skipped ({PG_ENV} is not set)", flush=True)
            continue
        fresh = pg_database(url) if backend == "postgresql" else nullcontext(url)
        async with fresh as db_url:
            backends[backend], backend_rows = await bench_backend(
                backend, db_url, args, tmp, shared
            )
        rows += backend_rows
    settings = {k: v for k, v in vars(args).items() if k not in CHILD_ARGS}
    machine = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    ceilings = dict(
        raw_rsa2048_sign_per_s=shared.get("sign_rate"),
        sign_cavage_per_s=shared.get("sign_cavage_rate"),
    )
    return machine | {"args": settings, "ceilings": ceilings, "backends": backends, "rows": rows}


CHILD_ARGS = ("sink_port", "key", "key_id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--followers", type=int, default=10_000, help="with a shared inbox")
    parser.add_argument("--servers", type=int, default=200, help="servers of those followers")
    parser.add_argument("--unshared", type=int, default=2000, help="followers without one")
    parser.add_argument("--unshared-domains", type=int, default=8, help="their servers")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per post at most")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--latency", action="store_true", help="a new post's, behind a backlog")
    parser.add_argument("--backlog", type=int, default=2000, help="rows due, with --latency")
    parser.add_argument("--sink-port", type=int, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key-id", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink_port is not None:
        run_sink(args.sink_port, args.key, args.key_id)
        return
    args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    args.servers = max(1, args.servers)
    args.unshared_domains = max(1, args.unshared_domains)
    tmp = Path(tempfile.mkdtemp(prefix="kizuna-bench-"))
    began = time.perf_counter()
    try:
        result = asyncio.run(run(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["total_seconds"] = round(time.perf_counter() - began, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS} ({result['total_seconds']} s in all)")


if __name__ == "__main__":
    main()
