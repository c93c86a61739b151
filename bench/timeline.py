"""Home-feed throughput and p99 of `kizuna serve`, HTML and JSON, next to aiohttp hello world.

Absolute req/s depend on the machine; the ratio against a bare aiohttp handler, measured in the
same run by the same client, says how much of the framework's capacity the home page keeps.
Nothing here asserts: it prints a table, each row against the figures to reach (ratio >= 0.25,
p99 <= 25 ms), and writes bench/results/timeline.json.

    python bench/timeline.py [--accounts 10000] [--posts 1000000] [--follows 100,1000,5000]
                             [--seconds 5] [--concurrency 16] [--backend sqlite|postgresql|all]

PostgreSQL runs when KIZUNA_TEST_DATABASE_URL is set: a throw-away database is created on that
server and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from sqlalchemy import Table, delete, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.engine import Database, make_engine, migrate
from kizuna.storage.ids import snowflake
from kizuna.storage.models import Account, Follow, Post

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "timeline.json"
PG_ENV = "KIZUNA_TEST_DATABASE_URL"
CHUNK = 5000  # rows per executemany: fast, and memory stays flat
DAY_MS = 86_400_000
# ~2 KB: the ceiling is aiohttp's per-request cost, not bytes (kizuna's home page is ~30 KB).
HELLO_HTML = "<!doctype html><title>hello</title>" + "<p>hello, world</p>\n" * 100
# Core inserts want a Table; the declarative stubs only promise a FromClause.
ACCOUNTS, POSTS, FOLLOWS = (cast(Table, m.__table__) for m in (Account, Post, Follow))
VISIBILITIES = ("public", "unlisted", "private", "direct")
# Local accounts need no key pair for reading: nothing is signed or delivered here.
ACCOUNT_DEFAULTS: dict[str, Any] = dict(actor_type="Person", note="", note_html="")
ACCOUNT_DEFAULTS |= dict(public_key_pem=None, locked=False, discoverable=True)
POST_DEFAULTS: dict[str, Any] = dict(url=None, content_source="", summary="", sensitive=False)
POST_DEFAULTS |= dict(language="ja")
CONTENT = "<p>今日は駅前の喫茶店で作業しています。New post #{n} about coffee and kizuna.</p>"
BOOST_EVERY = 33  # about 3 % of the rows are boosts of an earlier post: the cards join them
# What the issue asks of every row (both backends, every follow count).
TARGET_RATIO, TARGET_P99_MS = 0.25, 25.0


@dataclass(frozen=True, slots=True)
class Stats:
    requests: int
    req_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    first_error: str | None
    # CPU time of the server process per successful request: what a page costs, less
    # sensitive than req/s to other load on the machine. None when the pid is unknown.
    server_cpu_ms: float | None = None


def child_pids() -> set[int]:
    """Children of this process (Linux /proc), to find a server subprocess's pid."""
    pids: set[int] = set()
    for children in Path("/proc/self/task").glob("*/children"):
        pids |= {int(pid) for pid in children.read_text().split()}
    return pids


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _hammer(
    http: aiohttp.ClientSession,
    url: str,
    seconds: float,
    workers: int,
    marker: bytes | None,
    pid: int | None = None,
) -> Stats:
    """Closed loop: each worker sends its next request once the last one is fully read.
    `pid`: the server process, whose CPU time during the run is recorded."""
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                async with http.get(url, allow_redirects=False) as resp:
                    body = await resp.read()
                    problem = None if resp.status == 200 else f"HTTP {resp.status}"
                    if problem is None and marker is not None and marker not in body:
                        problem = f"no {marker.decode()} in the page"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = repr(exc)
            if problem is None:
                latencies.append(time.perf_counter() - start)
            else:
                errors.append(problem)

    started, cpu_began = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed, cpu_ended = time.perf_counter() - started, cpu_seconds(pid)
    ms = sorted(x * 1000 for x in latencies) or [0.0]
    p50, p99 = ms[int(0.50 * (len(ms) - 1))], ms[int(0.99 * (len(ms) - 1))]
    first_error = errors[0] if errors else None
    cpu_ms = None
    if cpu_began is not None and cpu_ended is not None and latencies:
        cpu_ms = (cpu_ended - cpu_began) * 1000 / len(latencies)
    return Stats(
        len(latencies), len(latencies) / elapsed, p50, p99, len(errors), first_error, cpu_ms
    )


async def measure(
    url: str,
    args: argparse.Namespace,
    cookie: str | None = None,
    marker: bytes | None = None,
    pid: int | None = None,
) -> Stats:
    """Only successful requests count: a page must be a 200 with `marker` (posts) in it."""
    headers = {"Cookie": f"kizuna_session={cookie}"} if cookie else {}
    # Pool size = concurrency. DummyCookieJar keeps every request identical (kizuna's CSRF
    # cookie is never sent back; aiohttp would not keep a cookie for 127.0.0.1 anyway).
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=args.concurrency),
        headers=headers,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as http:
        # Warm-up opens the connections on both sides and fills caches; not counted.
        await _hammer(http, url, 1.0, args.concurrency, marker)
        return await _hammer(http, url, args.seconds, args.concurrency, marker, pid)


# --- servers: separate processes, so the load generator never shares their event loop ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


@asynccontextmanager
async def server(cmd: list[str], env: dict[str, str], log: Path, port: int) -> AsyncIterator[str]:
    """Start `cmd`, yield its base URL once it answers, and always stop it."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:  # output goes to a file (a full pipe would stall the server); cwd: nothing lands here
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, cwd=log.parent, stdout=fd, stderr=fd
        )
    finally:
        os.close(fd)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if proc.returncode is not None:
                    raise RuntimeError(f"{cmd} exited:\n{_tail(log)}")
                try:
                    async with http.get(base + "/", allow_redirects=False):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{cmd} did not answer in 30 s:\n{_tail(log)}")
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def run_hello(port: int) -> None:
    """The ceiling: aiohttp with one handler, no middleware, no access log, no database."""

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text=HELLO_HTML, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- data ---------------------------------------------------------------------------------


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def seed(engine: AsyncEngine, accounts: int, posts: int) -> tuple[list[int], int]:
    """Bulk Core inserts (the ORM unit of work would take minutes). Returns the account ids
    and the id of the middle post, the `max_id` of the deep page."""
    rng = random.Random(42)  # the same data on every backend and run
    now = int(time.time() * 1000)
    start = now - 60 * DAY_MS  # posts spread over 60 days, ids in time order like real ones
    step = max(1, (now - start) // max(posts, 1))
    ids = [snowflake(start - DAY_MS + i, 0) for i in range(accounts)]
    account_rows: list[dict[str, Any]] = []
    for i, account_id in enumerate(ids):
        domain = "" if i % 4 == 0 else f"peer{i % 17}.example"  # a quarter local, rest remote
        base, name = f"https://{domain or 'localhost'}", f"user{i}"
        account_rows.append(
            dict(id=account_id, username=name, username_key=name, domain=domain)
            | dict(uri=f"{base}/users/{name}", url=f"{base}/@{name}", display_name=f"ユーザー{i}")
            | dict(created_at=_at(start), updated_at=_at(start))
            | ACCOUNT_DEFAULTS
        )
    local = {row["id"] for row in account_rows if row["domain"] == ""}
    public: list[int] = []  # what a boost may point at
    async with engine.begin() as conn:
        for i in range(0, accounts, CHUNK):
            await conn.execute(insert(ACCOUNTS), account_rows[i : i + CHUNK])
        for first in range(0, posts, CHUNK):
            rows = []
            for n in range(first, min(first + CHUNK, posts)):
                ms, author = start + n * step, rng.choice(ids)
                post_id = snowflake(ms, n)
                row = dict(id=post_id, uri=f"https://bench.example/posts/{post_id}")
                row |= dict(account_id=author, local=author in local, created_at=_at(ms))
                if n % BOOST_EVERY == BOOST_EVERY - 1 and public:
                    boosted = public[-1 - rng.randrange(min(len(public), 5000))]
                    row |= dict(visibility="public", reblog_of_id=boosted, content_html="")
                else:
                    # Mostly public; "direct" rows exercise the query's mention check.
                    visibility = rng.choices(VISIBILITIES, (85, 8, 5, 2))[0]
                    row |= dict(visibility=visibility, content_html=CONTENT.format(n=n))
                    row |= dict(reblog_of_id=None)  # executemany: every row the same keys
                    if visibility == "public":
                        public.append(post_id)
                rows.append(row | POST_DEFAULTS)
            await conn.execute(insert(POSTS), rows)
    if engine.dialect.name == "postgresql":
        # Autovacuum vacuums and analyses soon after a real bulk load; do not time that gap
        # (until then every index-only scan also reads the table).
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text("VACUUM ANALYZE"))
    return ids, snowflake(start + posts // 2 * step, posts // 2)


async def make_reader(engine: AsyncEngine, url: str, tmp: Path) -> tuple[int, str]:
    """The reader goes through kizuna's own sign-up and log-in code: its cookie is genuine."""
    config = Config(database_url=url, secret="bench", media_dir=tmp / "media")
    async with aiohttp.ClientSession() as http:  # build() wants one; nothing is fetched
        accounts = Services.build(config, Database(engine), http).accounts
        user = await accounts.create_user("reader", "bench-password")
        return user.account_id, await accounts.start_session(user)


async def set_follows(engine: AsyncEngine, reader: int, targets: list[int]) -> None:
    now = datetime.now(UTC)
    ms = int(now.timestamp() * 1000)
    async with engine.begin() as conn:
        await conn.execute(delete(Follow).where(Follow.account_id == reader))
        rows = [
            dict(id=snowflake(ms, i), account_id=reader, target_account_id=target)
            | dict(state="accepted", uri=None, created_at=now)
            for i, target in enumerate(targets)
        ]
        if rows:  # an empty list would insert one row of defaults
            await conn.execute(insert(FOLLOWS), rows)
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE follows"))


@asynccontextmanager
async def pg_database(base_url: str) -> AsyncIterator[str]:
    """A fresh database on the server of `base_url`, dropped (even if connected) at the end."""
    import asyncpg  # only PostgreSQL runs need it

    url = make_url(base_url)
    name = f"kizuna_bench_{os.getpid()}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(*statements: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    await run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- one backend, then all ----------------------------------------------------------------

HEADER = (
    f"{'backend':<11}{'follows':>8}{'page':>11}{'hello req/s':>13}{'req/s':>8}"
    f"{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}{'cpu ms':>8}{'errors':>7}"
    f"  target (ratio >= {TARGET_RATIO}, p99 <= {TARGET_P99_MS:.0f} ms)"
)
# (name, path, marker): the marker proves the answer holds posts.
PAGES = (
    ("html", "/", b"data-post-id"),
    ("html deep", "/?max_id={deep}", b"data-post-id"),
    ("json", "/api/timelines/home?limit=40", b'"id":"'),
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_row(r: dict[str, Any]) -> None:
    verdict = "met" if r["target_met"] else "NOT met"
    print(
        f"{r['backend']:<11}{r['follows']:>8}{r['page']:>11}{r['hello_req_per_s']:>13.0f}"
        f"{r['req_per_s']:>8.0f}{r['ratio']:>7.3f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}"
        f"{_ms(r['server_cpu_ms']):>8}{r['errors']:>7}  {verdict}"
        + (f"\n    first error: {r['first_error']}" if r["errors"] else ""),
        flush=True,
    )


async def bench_backend(
    backend: str, url: str, args: argparse.Namespace, tmp: Path, hello: str
) -> tuple[Stats, list[dict[str, Any]]]:
    engine = make_engine(url)
    try:
        await migrate(engine)
        began = time.perf_counter()
        ids, deep_id = await seed(engine, args.accounts, args.posts)
        reader, token = await make_reader(engine, url, tmp)
        print(f"{backend}: seeded in {time.perf_counter() - began:.1f} s", flush=True)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
        env |= dict(KIZUNA_HOST="127.0.0.1", KIZUNA_PORT=str(port), KIZUNA_DOMAIN="localhost")
        env |= dict(KIZUNA_SECRET="bench", KIZUNA_DATABASE_URL=url)
        env |= dict(KIZUNA_MEDIA_DIR=str(tmp / "media"))
        cmd = [sys.executable, "-m", "kizuna", "serve"]
        before = child_pids()
        async with server(cmd, env, tmp / f"kizuna-{backend}.log", port) as base:
            started = child_pids() - before
            pid = next(iter(started)) if len(started) == 1 else None
            # Measured per backend, just before its rows, so drift affects both sides alike.
            ceiling = await measure(hello + "/", args)
            rows: list[dict[str, Any]] = []
            for follows in (min(k, len(ids)) for k in args.follows):
                await set_follows(engine, reader, ids[:follows])  # the server reads them live
                for page, path, marker in PAGES:
                    url = base + path.format(deep=deep_id)
                    stats = await measure(url, args, token, marker, pid)
                    ratio = stats.req_per_s / ceiling.req_per_s
                    met = ratio >= TARGET_RATIO and stats.p99_ms <= TARGET_P99_MS
                    row = dict(backend=backend, follows=follows, page=page, target_met=met)
                    rows.append(row | dict(hello_req_per_s=ceiling.req_per_s, ratio=ratio))
                    rows[-1] |= asdict(stats)
                    print_row(rows[-1])
        return ceiling, rows
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    urls = {
        "sqlite": f"sqlite+aiosqlite:///{tmp / 'kizuna.db'}",
        "postgresql": os.environ.get(PG_ENV),
    }
    if args.backend == "postgresql" and not urls["postgresql"]:
        raise SystemExit(f"--backend postgresql needs {PG_ENV}")
    ceilings: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    hello_port = free_port()
    hello_cmd = [sys.executable, str(SCRIPT), "--hello-port", str(hello_port)]
    async with server(hello_cmd, dict(os.environ), tmp / "hello.log", hello_port) as hello:
        print(HEADER, flush=True)
        for backend, url in urls.items():
            if args.backend not in (backend, "all"):
                continue
            if not url:
                print(f"{backend}: skipped ({PG_ENV} is not set)", flush=True)
                continue
            fresh = pg_database(url) if backend == "postgresql" else nullcontext(url)
            async with fresh as db_url:
                ceiling, backend_rows = await bench_backend(backend, db_url, args, tmp, hello)
            ceilings[backend], rows = asdict(ceiling), rows + backend_rows
            print(
                f"ceiling ({backend} run): aiohttp hello world, {len(HELLO_HTML)} B page, "
                f"{ceiling.req_per_s:.0f} req/s, p50 {ceiling.p50_ms:.1f} ms, "
                f"p99 {ceiling.p99_ms:.1f} ms, {ceiling.errors} errors",
                flush=True,
            )
    settings = {k: v for k, v in vars(args).items() if k != "hello_port"}
    machine = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    return machine | {"args": settings, "ceilings": ceilings, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--follows", default="100,1000,5000", help="comma-separated follow counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per row")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--hello-port", type=int, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.hello_port is not None:
        run_hello(args.hello_port)
        return
    args.follows = [int(n) for n in args.follows.split(",") if n.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="kizuna-bench-"))
    try:
        result = asyncio.run(run(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
