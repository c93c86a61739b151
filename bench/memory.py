"""Memory of one `kizuna serve` process on a 1M-post SQLite database: idle and under load.

The figure to reach is 120 MB resident. One run seeds the database the way timeline.py does
(plus the inbox's recipient and remote senders, as inbox.py does), starts `kizuna serve`, and
reads the process's VmRSS from /proc every 0.1 s through four phases: idle once started, the
home feed (HTML and JSON) under the timeline load, signed activities under the inbox load, and
idle again. VmHWM, the kernel's own peak, closes the run. Nothing here asserts: it prints a
table and writes bench/results/memory.json.

    python bench/memory.py [--accounts 10000] [--posts 1000000] [--follows 1000]
                           [--seconds 10] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from inbox import RECIPIENT, Pool, _new_pair, client, make_senders, measure_inbox
from inbox import seed as seed_senders
from timeline import (
    child_pids,
    free_port,
    make_reader,
    measure,
    seed,
    server,
    set_follows,
)

from kizuna.config import Config
from kizuna.storage.engine import make_engine, migrate

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "memory.json"
TARGET_MB = 120.0
SAMPLE_EVERY = 0.1  # seconds between two reads of VmRSS
SIGNED_UP_FRONT = 2000  # the inbox phase tops the pool up from its warm-up rate
T = TypeVar("T")


def status_mb(pid: int, field: str) -> float | None:
    """A `VmRSS`/`VmHWM` line of /proc/PID/status, in MB; None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


@asynccontextmanager
async def sampled(pid: int, into: list[float]) -> AsyncIterator[None]:
    """Reads VmRSS every SAMPLE_EVERY seconds while the block runs."""

    async def sample() -> None:
        while True:
            rss = status_mb(pid, "VmRSS")
            if rss is not None:
                into.append(rss)
            await asyncio.sleep(SAMPLE_EVERY)

    task = asyncio.ensure_future(sample())
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        rss = status_mb(pid, "VmRSS")
        if rss is not None:
            into.append(rss)


async def phase(name: str, pid: int, work: Awaitable[T]) -> tuple[dict[str, Any], T]:
    samples: list[float] = []
    async with sampled(pid, samples):
        result = await work
    row = dict(phase=name, rss_mb_peak=max(samples), rss_mb_end=samples[-1])
    print(f"{name:<22}{row['rss_mb_peak']:>14.1f}{row['rss_mb_end']:>12.1f}", flush=True)
    return row, result


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{tmp / 'kizuna.db'}"
    port, path = free_port(), f"/users/{RECIPIENT}/inbox"
    base_url = f"http://127.0.0.1:{port}"
    config = Config(domain="localhost", host="127.0.0.1", port=port, database_url=url)
    config = replace(config, secret="bench", media_dir=tmp / "media")
    spawn = multiprocessing.get_context("spawn")  # never fork a process with a running loop
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=spawn) as executor:
        loop = asyncio.get_running_loop()
        pairs = await asyncio.gather(
            *(loop.run_in_executor(executor, _new_pair, i) for i in range(args.key_pairs))
        )
        senders = make_senders(args.senders, args.key_pairs)
        pool = Pool(executor, senders, [p[0] for p in pairs], base_url + path)
        engine = make_engine(url)
        try:
            await migrate(engine)
            began = time.perf_counter()
            ids, _ = await seed(engine, args.accounts, args.posts)
            reader, token = await make_reader(engine, url, tmp)
            await set_follows(engine, reader, ids[: args.follows])
            await seed_senders(engine, config, senders, [p[1] for p in pairs])
            await pool.ensure(SIGNED_UP_FRONT)
            print(f"seeded and signed in {time.perf_counter() - began:.1f} s", flush=True)
        finally:
            await engine.dispose()
        size_mb = (tmp / "kizuna.db").stat().st_size / 2**20
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
        env |= dict(KIZUNA_HOST="127.0.0.1", KIZUNA_PORT=str(port), KIZUNA_DOMAIN="localhost")
        env |= dict(KIZUNA_SECRET="bench", KIZUNA_DATABASE_URL=url)
        env |= dict(KIZUNA_MEDIA_DIR=str(tmp / "media"))
        # As inbox.py: stored activities are not processed here (the workers would fetch
        # from the fake senders' hosts), and no per-domain rate limit.
        env |= dict(KIZUNA_WORKERS="0", KIZUNA_RATE_INBOX="0")
        cmd = [sys.executable, "-m", "kizuna", "serve"]
        before = child_pids()
        print(f"{'phase':<22}{'RSS MB peak':>14}{'RSS MB end':>12}", flush=True)
        async with server(cmd, env, tmp / "kizuna.log", port) as base:
            (pid,) = child_pids() - before
            rows = [(await phase("idle, started", pid, asyncio.sleep(2.0)))[0]]
            home = base + "/"
            row, html = await phase(
                "home page (HTML)", pid, measure(home, args, token, b"data-post-id")
            )
            rows.append(row | dict(req_per_s=html.req_per_s, p99_ms=html.p99_ms))
            feed = base + "/api/timelines/home?limit=40"
            row, js = await phase("home feed (JSON)", pid, measure(feed, args, token, b'"id":"'))
            rows.append(row | dict(req_per_s=js.req_per_s, p99_ms=js.p99_ms))
            async with client(args.concurrency) as http:
                inbox = measure_inbox(http, base + path, pool, args, pid)
                row, (_, signed) = await phase("inbox (signed POSTs)", pid, inbox)
            stats = signed.stats()
            rows.append(row | dict(req_per_s=stats["req_per_s"], p99_ms=stats["p99_ms"]))
            rows.append((await phase("idle, after", pid, asyncio.sleep(2.0)))[0])
            hwm = status_mb(pid, "VmHWM") or 0.0
    peak = max(hwm, *(r["rss_mb_peak"] for r in rows))
    verdict = "met" if peak <= TARGET_MB else "NOT met"
    print(
        f"peak {peak:.1f} MB (VmHWM {hwm:.1f} MB), database {size_mb:.0f} MB: "
        f"target <= {TARGET_MB:.0f} MB {verdict}",
        flush=True,
    )
    machine = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    return machine | {
        "args": vars(args),
        "database_mb": round(size_mb, 1),
        "vm_hwm_mb": hwm,
        "peak_mb": peak,
        "target_mb": TARGET_MB,
        "target_met": peak <= TARGET_MB,
        "phases": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--follows", type=int, default=1000, help="accounts the reader follows")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--senders", type=int, default=200, help="remote actors of the inbox load")
    parser.add_argument("--key-pairs", type=int, default=20, help="RSA key pairs they share")
    args = parser.parse_args()
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
