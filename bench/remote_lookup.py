"""What a remote account lookup costs on loopback: requests and milliseconds.

Two real instances (a.test, b.test) run in this process on 127.0.0.1, federating through the
lab host map. a.test resolves @bob@b.test with a forced refresh N times (WebFinger + actor
fetch + identity checks + upsert). The ceiling, measured in the same run, is two plain GETs of
b.test's actor document through the same federation client: the network part alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import web

from kizuna.app import create_app
from kizuna.config import Config
from kizuna.container import Services
from kizuna.server.context import services_key
from kizuna.storage.engine import make_engine, migrate

RESULTS = Path(__file__).parent / "results"


async def start(domain: str, workdir: Path, host_map: dict[str, tuple[str, int]]) -> web.AppRunner:
    url = f"sqlite+aiosqlite:///{workdir / domain}.db"
    engine = make_engine(url)
    await migrate(engine)
    await engine.dispose()
    config = Config(
        domain=domain,
        database_url=url,
        media_dir=workdir / domain,
        secret="bench",
        federation_hosts=host_map,
        allow_private_addresses=True,
    )
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host_map[domain] = ("127.0.0.1", site.port)
    return runner


def services(runner: web.AppRunner) -> Services:
    return runner.app[services_key]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


async def main(rounds: int) -> None:
    host_map: dict[str, tuple[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        a = await start("a.test", Path(tmp), host_map)
        b = await start("b.test", Path(tmp), host_map)
        try:
            await services(b).accounts.create_user("bob", "bench-password")
            lookups = services(a).remote_accounts
            client = services(a).federation
            await lookups.resolve("@bob@b.test", refresh=True)  # warm connections
            ceiling, lookup = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                await client.get_json("https://b.test/users/bob")
                await client.get_json("https://b.test/users/bob")
                ceiling.append(time.perf_counter() - started)
                started = time.perf_counter()
                await lookups.resolve("@bob@b.test", refresh=True)
                lookup.append(time.perf_counter() - started)
            cached = []
            for _ in range(rounds):
                started = time.perf_counter()
                await lookups.resolve("@bob@b.test")
                cached.append(time.perf_counter() - started)
        finally:
            await a.cleanup()
            await b.cleanup()
    figures = {
        "fresh_lookup": summary(lookup),
        "cached_lookup": summary(cached),
        "ceiling_two_gets": summary(ceiling),
    }
    ratio = figures["fresh_lookup"]["p50_ms"] / figures["ceiling_two_gets"]["p50_ms"]
    result = {"rounds": rounds, "requests_per_fresh_lookup": 2, **figures, "ratio_p50": ratio}
    print(f"remote lookup of @bob@b.test on loopback, {rounds} rounds (2 requests each)")
    for name, s in figures.items():
        print(f"  {name:18} p50 {s['p50_ms']:6.2f} ms  p99 {s['p99_ms']:6.2f} ms")
    print(f"  fresh lookup / two raw GETs (p50): {ratio:.2f}x")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "remote_lookup.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(main(parser.parse_args().rounds))
