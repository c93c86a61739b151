"""How long a community post takes to reach a member on a third server, on loopback.

Three real instances (a.test, b.test, c.test) run in this process with their delivery and
inbox workers, federating over 127.0.0.1 through the lab host map. bob@b.test posts in
!tokyo@a.test; carol@c.test is a member. The post travels b → a (Create to the group),
a → c (the group's Announce), and c fetches it from b (its origin), so three requests.

The ceiling, measured in the same run, is the direct path: carol follows dave@b.test (not
bob, or bob's community post would reach her directly too), dave posts, b → c. Reported:
p50/p99 of each and the ratio community / direct (the cost of the group hop). Time is
measured until the row exists on c (polled every 2 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from remote_lookup import RESULTS, services, start, summary
from sqlalchemy import select

from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Post

POLL = 0.002
TIMEOUT = 10.0


async def arrival(on: Services, uri: str) -> None:
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        async with on.db.begin() as session:
            if await session.scalar(select(Post.id).where(Post.uri == uri)) is not None:
                return
        await asyncio.sleep(POLL)
    raise TimeoutError(f"{uri} did not arrive within {TIMEOUT} s")


async def main(rounds: int) -> None:
    host_map: dict[str, tuple[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runners = [await start(d, Path(tmp), host_map) for d in ("a.test", "b.test", "c.test")]
        a, b, c = (services(r) for r in runners)
        try:
            alice = (await a.accounts.create_user("alice", "bench-password")).account
            bob = (await b.accounts.create_user("bob", "bench-password")).account
            dave = (await b.accounts.create_user("dave", "bench-password")).account
            carol = (await c.accounts.create_user("carol", "bench-password")).account
            await a.communities.create(alice, NewCommunity(slug="tokyo", name="Tokyo"))
            for instance, member in ((b, bob), (c, carol)):
                await instance.communities.find("!tokyo@a.test")
                await instance.communities.join(member, "tokyo@a.test")
            await c.remote_accounts.resolve("@dave@b.test")
            await c.follows.follow(carol, "dave", "b.test")
            await asyncio.sleep(0.5)  # follows and joins accepted
            direct, community = [], []
            for n in range(rounds):
                started = time.perf_counter()
                post = await b.posts.create(dave, f"direct {n}")
                await arrival(c, post.uri)
                direct.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)  # the queues go quiet between rounds
                started = time.perf_counter()
                post = await b.communities.post(bob, "tokyo@a.test", f"community {n}")
                await arrival(c, post.uri)
                community.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)  # the queues go quiet between rounds
        finally:
            for runner in runners:
                await runner.cleanup()
    figures = {"direct": summary(direct), "community": summary(community)}
    ratio = figures["community"]["p50_ms"] / figures["direct"]["p50_ms"]
    print(f"post → member on a third server, loopback, {rounds} rounds")
    for name, s in figures.items():
        print(f"  {name:10} p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms")
    print(f"  community (b→a→c, fetch from b) / direct (b→c), p50: {ratio:.2f}x")
    RESULTS.mkdir(exist_ok=True)
    result = {"rounds": rounds, **figures, "ratio_p50": ratio}
    (RESULTS / "community_relay.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(main(parser.parse_args().rounds))
