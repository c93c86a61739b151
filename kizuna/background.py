"""The loop every background worker runs: work while there is work, then wait to be woken."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

logger = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0  # other processes' new rows are seen at least this often


async def wait_any(events: Iterable[asyncio.Event], seconds: float) -> bool:
    """Until one of `events` is set or `seconds` pass; False when none was set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)


async def run_until_stopped(
    name: str, cycle: Callable[[], Awaitable[int]], wakeup: asyncio.Event, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        # Cleared before the cycle, not after: a wake-up that arrives while the cycle runs
        # (a new row it did not see) must not be lost until the next idle poll.
        wakeup.clear()
        try:
            done = await cycle()
        except Exception:
            logger.exception("%s cycle failed", name)
            done = 0
        if done:
            continue
        await wait_any((stop, wakeup), IDLE_POLL_SECONDS)
