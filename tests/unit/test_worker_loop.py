"""The background loop: a wake-up that arrives during a cycle is not lost."""

from __future__ import annotations

import asyncio

import pytest

from kizuna import background


async def test_wakeup_during_a_cycle_runs_another_cycle_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "IDLE_POLL_SECONDS", 3600.0)  # only a wake-up can end a wait
    wakeup, stop = asyncio.Event(), asyncio.Event()
    calls = 0

    async def cycle() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            wakeup.set()  # a row arrived while this cycle was looking elsewhere
        else:
            stop.set()
        return 0

    await asyncio.wait_for(background.run_until_stopped("test", cycle, wakeup, stop), timeout=10)
    assert calls == 2


async def test_a_failing_cycle_does_not_end_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "IDLE_POLL_SECONDS", 0.0)
    wakeup, stop = asyncio.Event(), asyncio.Event()
    calls = 0

    async def cycle() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        stop.set()
        return 0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(background.logger, "exception", lambda *args, **kwargs: None)
        await asyncio.wait_for(
            background.run_until_stopped("test", cycle, wakeup, stop), timeout=10
        )
    assert calls == 2
