"""Secure-inbox throughput of `kizuna serve`, next to two verify-only ceilings.

Signed POSTs from many remote keys reach a real `kizuna serve` over loopback: verify the HTTP
signature, store the activity once, answer 202. The same run measures two ceilings: the raw
RSA-2048 verify rate of this machine (one process, no HTTP), and an aiohttp handler that only
verifies with kizuna's `verify_request` (no database), driven by the same client. Nothing here
asserts: it prints a table and writes bench/results/inbox.json.

    python bench/inbox.py [--senders 200] [--key-pairs 50] [--seconds 5] [--concurrency 16]
                          [--backend sqlite|postgresql|all]

PostgreSQL runs when KIZUNA_TEST_DATABASE_URL is set: a throw-away database is created on that
server and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from timeline import child_pids, cpu_seconds, free_port, pg_database, server

from kizuna.activitypub.errors import SignatureError
from kizuna.config import Config
from kizuna.container import Services
from kizuna.federation.signatures import (
    PrivateKeyType,
    PublicKey,
    key_id_of,
    load_private_key_pem,
    load_public_key_pem,
    sign_cavage,
    verify_request,
)
from kizuna.inbox.routes import MAX_BODY, read_capped
from kizuna.keys import generate_rsa_keypair
from kizuna.storage.engine import Database, make_engine, migrate
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, InboxActivity

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "inbox.json"
PG_ENV = "KIZUNA_TEST_DATABASE_URL"
ACCOUNTS, INBOX = (cast(Table, m.__table__) for m in (Account, InboxActivity))
DOMAINS = 8  # senders live on s0.example … s7.example
RECIPIENT = "bob"
CONTENT_TYPE = "application/activity+json"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
WARMUP = 1.0  # seconds of load before each measurement, not counted
FIRST_POOL = 2000  # requests signed up front; the verify-only ceiling cycles through them
SIGN_CHUNK = 500  # requests per job of the signing processes
RESEND = 200  # accepted requests sent again: each must come back "duplicate"
NOTE = (
    "<p>今日は駅前の喫茶店で作業しています。Inbox bench note #{n}: federation, coffee and "
    "a link to <a href='https://s1.example/tags/kizuna'>#kizuna</a>.</p>"
)


@dataclass(frozen=True, slots=True)
class Sender:
    username: str
    domain: str
    actor: str
    key_id: str
    pair: int  # index of its RSA key pair: senders share key material, never a keyId


@dataclass(frozen=True, slots=True)
class Signed:
    activity_id: str
    body: bytes
    headers: dict[str, str]


def make_senders(count: int, pairs: int) -> list[Sender]:
    out = []
    for i in range(count):
        domain = f"s{i % DOMAINS}.example"
        actor = f"https://{domain}/users/u{i}"
        out.append(Sender(f"u{i}", domain, actor, f"{actor}#main-key", i % pairs))
    return out


# --- signing: CPU-bound, so done before measuring, in one process per CPU ------------------

_PRIVATE: dict[str, PrivateKeyType] = {}  # per signing process: PEM -> loaded private key


def _new_pair(_: int) -> tuple[str, str]:
    pair = generate_rsa_keypair()
    return pair.private_pem, pair.public_pem


def activity(n: int, sender: Sender, recipient: str, now: datetime) -> dict[str, Any]:
    """Unique per n: half Create(Note), then Like and Follow, all with ids on the sender's host."""
    published = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    actor, kind = sender.actor, ("Create", "Create", "Like", "Follow")[n % 4]
    doc: dict[str, Any] = {"@context": AS_CONTEXT, "type": kind, "actor": actor}
    if kind == "Create":
        note = f"{actor}/statuses/{n}"
        to, cc = [PUBLIC], [f"{actor}/followers", recipient]
        doc |= {"id": f"{note}/activity", "published": published, "to": to, "cc": cc}
        doc["object"] = {
            "id": note,
            "type": "Note",
            "attributedTo": actor,
            "content": NOTE.format(n=n),
            "published": published,
            "to": to,
            "cc": cc,
            "tag": [{"type": "Mention", "href": recipient, "name": f"@{RECIPIENT}"}],
        }
    elif kind == "Like":
        doc |= {"id": f"{actor}#likes/{n}", "object": f"{recipient}/statuses/{n}"}
    else:
        doc |= {"id": f"{actor}#follows/{n}", "object": recipient}
    return doc


def _sign_range(
    first: int, count: int, senders: list[Sender], pems: list[str], inbox_url: str
) -> list[tuple[str, bytes, dict[str, str]]]:
    recipient = inbox_url.removesuffix("/inbox")
    now = datetime.now(UTC)
    out = []
    for n in range(first, first + count):
        sender = senders[n % len(senders)]
        pem = pems[sender.pair]
        key = _PRIVATE.get(pem)
        if key is None:
            key = _PRIVATE[pem] = load_private_key_pem(pem)
        doc = activity(n, sender, recipient, now)
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": CONTENT_TYPE}
        headers |= sign_cavage(
            method="POST",
            url=inbox_url,
            headers=headers,
            body=body,
            key_id=sender.key_id,
            private_key=key,
            now=now,
        )
        out.append((doc["id"], body, headers))
    return out


class Pool:
    """Pre-signed requests, each with a unique activity. Signed once per run: every backend gets
    a fresh database, so the same activities are new to each."""

    def __init__(
        self, executor: ProcessPoolExecutor, senders: list[Sender], pems: list[str], url: str
    ) -> None:
        self.executor, self.senders, self.pems, self.url = executor, senders, pems, url
        self.requests: list[Signed] = []
        self.signing_seconds = 0.0

    async def ensure(self, count: int) -> None:
        if count <= len(self.requests):
            return
        began = time.perf_counter()
        loop = asyncio.get_running_loop()
        jobs = [
            loop.run_in_executor(
                self.executor,
                _sign_range,
                first,
                min(SIGN_CHUNK, count - first),
                self.senders,
                self.pems,
                self.url,
            )
            for first in range(len(self.requests), count, SIGN_CHUNK)
        ]
        for chunk in await asyncio.gather(*jobs):
            self.requests += [Signed(*item) for item in chunk]
        self.signing_seconds += time.perf_counter() - began


# --- ceilings -----------------------------------------------------------------------------


def raw_verify_rate(private_pem: str, seconds: float) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 verifies per second: `cryptography`, one process, a tight
    loop over a cavage-sized signing string."""
    key = load_private_key_pem(private_pem)
    assert isinstance(key, RSAPrivateKey)
    message = b"(request-target): post /users/bob/inbox\nhost: 127.0.0.1:8080\n" * 3
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public, pkcs1, sha256 = key.public_key(), padding.PKCS1v15(), hashes.SHA256()
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for _ in range(100):
            public.verify(signature, message, pkcs1, sha256)
        count += 100
    return count / elapsed


def verify_request_rate(request: Signed, key: PublicKey, url: str, seconds: float) -> float:
    """kizuna's `verify_request` in-process (parse, digest, time window, RSA): no HTTP."""
    count, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for _ in range(100):
            verify_request(
                method="POST",
                url=url,
                headers=request.headers,
                body=request.body,
                public_key=key,
                now=datetime.now(UTC),
            )
        count += 100
    return count / elapsed


def run_verify_only(port: int, keys_file: Path, base_url: str) -> None:
    """Ceiling 2: an aiohttp inbox that reads the body and verifies the signature against keys
    held in a dict, then answers 202. No JSON decoding, no database, no middleware, no log."""
    keys = {
        entry["key_id"]: PublicKey(
            key_id=entry["key_id"], owner=entry["owner"], key=load_public_key_pem(entry["pem"])
        )
        for entry in json.loads(keys_file.read_text())
    }

    async def inbox(request: web.Request) -> web.Response:
        body = await read_capped(request, MAX_BODY)
        try:
            _scheme, key_id = key_id_of(request.headers)
            key = keys.get(key_id)
            if key is None:
                raise SignatureError(f"unknown key {key_id}")
            verify_request(
                method=request.method,
                url=base_url + request.raw_path,
                headers=request.headers,
                body=body,
                public_key=key,
                now=datetime.now(UTC),
            )
        except SignatureError as exc:
            return web.json_response({"error": str(exc)}, status=401)
        return web.json_response({"status": "verified", "key": key_id}, status=202)

    app = web.Application()
    app.router.add_post("/users/{username}/inbox", inbox)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- load ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    seconds: float = 0.0
    exhausted: bool = False  # ran out of pre-signed requests before the time was up
    latencies: list[float] = field(default_factory=list)  # of 202s
    accepted: list[str] = field(default_factory=list)  # activity ids answered "accepted"
    duplicate: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_cpu: float | None = None  # CPU seconds of the server process during the run
    client_cpu: float = 0.0  # CPU seconds of this process (the client) during the run

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def stats(self) -> dict[str, Any]:
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        return dict(
            requests=self.ok,
            req_per_s=self.ok / self.seconds if self.seconds else 0.0,
            p50_ms=ms[int(0.50 * (len(ms) - 1))],
            p99_ms=ms[int(0.99 * (len(ms) - 1))],
            errors=len(self.errors),
            first_error=self.errors[0] if self.errors else None,
            exhausted=self.exhausted,
            server_cpu_ms_per_req=per_request(self.server_cpu, self.ok),
            client_cpu_ms_per_req=per_request(self.client_cpu, self.ok),
        )


def per_request(seconds: float | None, requests: int) -> float | None:
    return None if seconds is None or not requests else seconds * 1000 / requests


async def hammer(
    http: aiohttp.ClientSession,
    url: str,
    source: Iterator[Signed],
    seconds: float,
    workers: int,
    pid: int | None = None,
) -> Outcome:
    """Closed loop: each worker POSTs the next pre-signed request once the last one is read.
    `pid`: the server process, whose CPU time during the run is recorded."""
    out = Outcome()
    server_began, client_began = cpu_seconds(pid), time.process_time()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            request = next(source, None)
            if request is None:
                out.exhausted = True
                return
            start = time.perf_counter()
            try:
                async with http.post(url, data=request.body, headers=request.headers) as resp:
                    payload = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                out.errors.append(repr(exc))
                continue
            answer: Any = None
            if status == 202:
                try:
                    answer = json.loads(payload)
                except ValueError:
                    pass
            if not isinstance(answer, dict):
                out.errors.append(f"HTTP {status}: {payload[:300]!r}")
                continue
            out.latencies.append(time.perf_counter() - start)
            if answer.get("status") == "accepted" and answer.get("id") == request.activity_id:
                out.accepted.append(request.activity_id)
            elif answer.get("status") == "duplicate" and answer.get("id") == request.activity_id:
                out.duplicate.append(request.activity_id)
            elif answer.get("status") != "verified":  # the verify-only ceiling's answer
                out.latencies.pop()
                out.errors.append(f"unexpected answer for {request.activity_id}: {answer}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    out.seconds = time.perf_counter() - started
    server_ended = cpu_seconds(pid)
    if server_began is not None and server_ended is not None:
        out.server_cpu = server_ended - server_began
    out.client_cpu = time.process_time() - client_began
    return out


class Feed(Iterator[Signed]):
    """Each pre-signed request once, in order; sees requests appended to the list later."""

    def __init__(self, requests: list[Signed]) -> None:
        self.requests, self.position = requests, 0

    def __next__(self) -> Signed:
        if self.position >= len(self.requests):
            raise StopIteration
        self.position += 1
        return self.requests[self.position - 1]


def only(pids: set[int]) -> int | None:
    return next(iter(pids)) if len(pids) == 1 else None


def client(concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def measure_verify_only(
    url: str, pool: Pool, args: argparse.Namespace, pid: int | None
) -> Outcome:
    """The verify-only server stores nothing, so it may see the same requests again."""
    async with client(args.concurrency) as http:
        source = itertools.cycle(pool.requests)
        await hammer(http, url, source, WARMUP, args.concurrency)
        return await hammer(http, url, source, args.seconds, args.concurrency, pid)


async def measure_inbox(
    http: aiohttp.ClientSession, url: str, pool: Pool, args: argparse.Namespace, pid: int | None
) -> tuple[Outcome, Outcome]:
    """Warm-up, then the measured run; every request is used once. The pool is topped up from
    the warm-up rate (the server idle meanwhile), with room: a cold first second is slower."""
    feed = Feed(pool.requests)
    warm = await hammer(http, url, feed, WARMUP, args.concurrency)
    await pool.ensure(feed.position + int(warm.ok / warm.seconds * args.seconds * 3) + 500)
    run = await hammer(http, url, feed, args.seconds, args.concurrency, pid)
    return warm, run


async def redeliver(
    http: aiohttp.ClientSession, url: str, pool: Pool, run: Outcome, concurrency: int
) -> Outcome:
    """RESEND requests already answered "accepted", sent again as they were."""
    by_id = {request.activity_id: request for request in pool.requests}
    again = [by_id[activity_id] for activity_id in run.accepted[:RESEND]]
    return await hammer(http, url, iter(again), 60.0, concurrency)


# --- data ---------------------------------------------------------------------------------


async def seed(engine: AsyncEngine, config: Config, senders: list[Sender], pems: list[str]) -> None:
    """The recipient through kizuna's own `create_user`; the senders as remote accounts rows
    (Core inserts) carrying their public key, so the server never fetches a key."""
    async with aiohttp.ClientSession() as http:  # build() wants one; nothing is fetched
        await Services.build(config, Database(engine), http).accounts.create_user(
            RECIPIENT, "bench-password"
        )
    now = datetime.now(UTC)
    rows = [
        dict(id=new_id(), username=s.username, username_key=s.username, domain=s.domain)
        | dict(uri=s.actor, url=f"https://{s.domain}/@{s.username}", actor_type="Person")
        | dict(inbox_url=f"{s.actor}/inbox", shared_inbox_url=f"https://{s.domain}/inbox")
        | dict(followers_url=f"{s.actor}/followers", public_key_id=s.key_id)
        | dict(public_key_pem=pems[s.pair], display_name=s.username, note="", note_html="")
        | dict(locked=False, discoverable=True, fetched_at=now, created_at=now, updated_at=now)
        for s in senders
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(ACCOUNTS), rows)


async def stored_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(INBOX.c.activity_id))).scalars())


async def count_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(INBOX))).scalar_one())


def integrity(outcomes: list[Outcome], resend: Outcome, stored: list[str]) -> dict[str, int]:
    """lost: answered "accepted" but not stored. accepted_twice: an activity answered "accepted"
    more than once (a re-delivery included) or stored twice. unacknowledged: stored without an
    "accepted" answer (e.g. a request that timed out after its commit)."""
    acked = Counter(a for outcome in outcomes for a in outcome.accepted)
    rows = Counter(stored)
    return dict(
        accepted=sum(acked.values()),
        stored=len(stored),
        lost=len(acked.keys() - rows.keys()),
        accepted_twice=sum(n - 1 for n in acked.values() if n > 1)
        + sum(n - 1 for n in rows.values() if n > 1),
        unacknowledged=len(rows.keys() - acked.keys()),
        resent=resend.ok + len(resend.errors),
        resent_duplicate=len(resend.duplicate),
    )


# --- one backend, then all ----------------------------------------------------------------

HEADER = (
    f"{'backend':<11}{'raw verify/s':>13}{'verify-only/s':>14}{'inbox/s':>9}{'ratio':>7}"
    f"{'p50 ms':>8}{'p99 ms':>8}{'cpu ms':>8}{'errors':>7}{'lost':>6}{'twice':>6}"
)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_row(r: dict[str, Any]) -> None:
    print(
        f"{r['backend']:<11}{r['raw_verify_per_s']:>13.0f}{r['verify_only_req_per_s']:>14.0f}"
        f"{r['req_per_s']:>9.0f}{r['ratio']:>7.2f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
        f"{ms(r['server_cpu_ms_per_req']):>8}{r['errors']:>7}{r['lost']:>6}{r['accepted_twice']:>6}"
        + (f"\n    first error: {r['first_error']}" if r["errors"] else ""),
        flush=True,
    )


@dataclass(slots=True, kw_only=True)
class Setup:
    """What every backend shares: the senders, their keys, the signed requests, the ceilings."""

    tmp: Path
    port: int  # kizuna listens here on every backend: the signed Host and URL stay valid
    path: str
    senders: list[Sender]
    public_pems: list[str]
    pool: Pool
    raw_verify: float
    verify_only: str = ""  # base URL of the verify-only server
    verify_only_pid: int | None = None


async def bench_backend(
    backend: str, url: str, args: argparse.Namespace, setup: Setup
) -> dict[str, Any]:
    tmp, port, pool = setup.tmp, setup.port, setup.pool
    config = Config(domain="localhost", host="127.0.0.1", port=port, database_url=url)
    config = replace(config, secret="bench", media_dir=tmp / "media")
    assert config.base_url + setup.path == pool.url  # what the server verifies against
    engine = make_engine(url)
    try:
        await migrate(engine)
        await seed(engine, config, setup.senders, setup.public_pems)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
        env |= dict(KIZUNA_HOST="127.0.0.1", KIZUNA_PORT=str(port), KIZUNA_DOMAIN="localhost")
        env |= dict(KIZUNA_SECRET="bench", KIZUNA_DATABASE_URL=url)
        env |= dict(KIZUNA_MEDIA_DIR=str(tmp / "media"))
        # Measured: verify + store + 202. Processing the stored rows (and delivering the
        # Accepts it would send to the fake peers) is later work, so no in-process workers.
        env |= dict(KIZUNA_WORKERS="0")
        # Measured: the inbox at full speed, so no per-domain rate limit (it would 429 the run).
        env |= dict(KIZUNA_RATE_INBOX="0")
        cmd = [sys.executable, "-m", "kizuna", "serve"]
        before = child_pids()
        async with server(cmd, env, tmp / f"kizuna-{backend}.log", port) as base:
            pid = only(child_pids() - before)
            # Measured per backend, just before its row, so drift affects both sides alike.
            verify_only = setup.verify_only + setup.path
            ceiling = await measure_verify_only(verify_only, pool, args, setup.verify_only_pid)
            inbox = base + setup.path
            async with client(args.concurrency) as http:
                warm, run = await measure_inbox(http, inbox, pool, args, pid)
                rows_before = await count_rows(engine)
                resend = await redeliver(http, inbox, pool, run, args.concurrency)
            checks = integrity([warm, run, resend], resend, await stored_ids(engine))
            checks["rows_added_by_resend"] = checks["stored"] - rows_before
        stats = run.stats()
        row = dict(backend=backend, raw_verify_per_s=setup.raw_verify)
        row |= dict(verify_only_req_per_s=ceiling.stats()["req_per_s"])
        row |= stats | dict(ratio=stats["req_per_s"] / max(ceiling.stats()["req_per_s"], 1e-9))
        row |= checks | dict(verify_only=ceiling.stats())
        print_row(row)
        print(
            f"    {backend}: lost: {checks['lost']}, accepted twice: {checks['accepted_twice']}. "
            f"{checks['accepted']} accepted (warm-up included), {checks['stored']} rows, "
            f"{checks['unacknowledged']} stored unacknowledged; re-sent {checks['resent']}: "
            f"{checks['resent_duplicate']} duplicate, {checks['rows_added_by_resend']} rows added"
            + (" (ran out of pre-signed requests)" if run.exhausted else ""),
            flush=True,
        )
        return row
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    urls = {
        "sqlite": f"sqlite+aiosqlite:///{tmp / 'kizuna.db'}",
        "postgresql": os.environ.get(PG_ENV),
    }
    if args.backend == "postgresql" and not urls["postgresql"]:
        raise SystemExit(f"--backend postgresql needs {PG_ENV}")
    pairs = max(1, min(args.key_pairs, args.senders))
    spawn = multiprocessing.get_context("spawn")  # never fork a process with a running loop
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=spawn) as executor:
        began = time.perf_counter()
        loop = asyncio.get_running_loop()
        generated = await asyncio.gather(
            *(loop.run_in_executor(executor, _new_pair, i) for i in range(pairs))
        )
        private_pems, pems = [p[0] for p in generated], [p[1] for p in generated]
        keygen = time.perf_counter() - began
        senders = make_senders(args.senders, pairs)
        port, path = free_port(), f"/users/{RECIPIENT}/inbox"
        base_url = f"http://127.0.0.1:{port}"
        pool = Pool(executor, senders, private_pems, base_url + path)
        await pool.ensure(FIRST_POOL)
        print(
            f"{args.senders} senders on {DOMAINS} domains, {pairs} RSA-2048 key pairs "
            f"(generated in {keygen:.1f} s); {FIRST_POOL} requests signed in "
            f"{pool.signing_seconds:.1f} s",
            flush=True,
        )
        raw_verify = raw_verify_rate(private_pems[0], 2.0)
        first = pool.requests[0]
        sender = senders[0]
        key = PublicKey(key_id=sender.key_id, owner=sender.actor, key=load_public_key_pem(pems[0]))
        in_process = verify_request_rate(first, key, base_url + path, 1.0)
        print(
            f"ceiling 1: raw RSA-2048 verify {raw_verify:.0f}/s (one process); kizuna "
            f"verify_request in-process {in_process:.0f}/s",
            flush=True,
        )
        keys_file = tmp / "keys.json"
        keys_file.write_text(
            json.dumps([dict(key_id=s.key_id, owner=s.actor, pem=pems[s.pair]) for s in senders])
        )
        vport = free_port()
        vcmd = [sys.executable, str(SCRIPT), "--verify-only-port", str(vport)]
        vcmd += ["--keys", str(keys_file), "--base-url", base_url]
        setup = Setup(
            tmp=tmp,
            port=port,
            path=path,
            senders=senders,
            public_pems=pems,
            pool=pool,
            raw_verify=raw_verify,
        )
        rows: list[dict[str, Any]] = []
        before = child_pids()
        async with server(vcmd, dict(os.environ), tmp / "verify-only.log", vport) as verify:
            setup.verify_only, setup.verify_only_pid = verify, only(child_pids() - before)
            print(HEADER, flush=True)
            for backend, url in urls.items():
                if args.backend not in (backend, "all"):
                    continue
                if not url:
                    print(f"{backend}: skipped ({PG_ENV} is not set)", flush=True)
                    continue
                fresh = pg_database(url) if backend == "postgresql" else nullcontext(url)
                async with fresh as db_url:
                    rows.append(await bench_backend(backend, db_url, args, setup))
                ceiling = rows[-1]["verify_only"]
                print(
                    f"    ceiling 2 ({backend} run): verify-only aiohttp inbox "
                    f"{ceiling['req_per_s']:.0f} req/s, p50 {ceiling['p50_ms']:.1f} ms, "
                    f"p99 {ceiling['p99_ms']:.1f} ms, server CPU "
                    f"{ms(ceiling['server_cpu_ms_per_req'])} ms/req, {ceiling['errors']} errors",
                    flush=True,
                )
        print(f"signed {len(pool.requests)} requests in all, {pool.signing_seconds:.1f} s")
    settings = {k: v for k, v in vars(args).items() if k not in CHILD_ARGS}
    machine = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    ceilings = dict(raw_rsa2048_verify_per_s=raw_verify, verify_request_per_s=in_process)
    return machine | {
        "args": settings,
        "distinct_key_pairs": pairs,
        "ceilings": ceilings,
        "rows": rows,
    }


CHILD_ARGS = ("verify_only_port", "keys", "base_url")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--senders", type=int, default=200, help="remote actors, one keyId each")
    parser.add_argument(
        "--key-pairs", type=int, default=50, help="distinct RSA key pairs the senders share"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per row")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--verify-only-port", type=int, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--keys", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify_only_port is not None:
        run_verify_only(args.verify_only_port, args.keys, args.base_url)
        return
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
