"""Token buckets with an injected clock: refill, burst, disabling, bounded memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kizuna.config import load_config
from kizuna.errors import ConfigError
from kizuna.server.rate_limits import Limit, TokenBuckets
from kizuna.services.inbox_accounting import bucket_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _buckets(count: int, period: float, clock: Clock, max_keys: int = 100) -> TokenBuckets:
    return TokenBuckets(Limit("test", count, period, "Slow down"), clock=clock, max_keys=max_keys)


def test_take__burst_of_count_then_wait_for_one_token() -> None:
    clock = Clock()
    buckets = _buckets(3, 60.0, clock)

    allowed = [buckets.take("ip") for _ in range(3)]
    refused = buckets.take("ip")

    assert allowed == [None, None, None]
    assert refused == pytest.approx(20.0)  # one token every 60 s / 3


def test_take__refills_with_time_and_never_above_count() -> None:
    clock = Clock()
    buckets = _buckets(3, 60.0, clock)
    for _ in range(3):
        buckets.take("ip")

    clock.now += 19.0
    assert buckets.take("ip") == pytest.approx(1.0)
    clock.now += 1.0
    assert buckets.take("ip") is None
    clock.now += 3600.0  # idle for an hour: still a burst of 3, not 180
    assert [buckets.take("ip") for _ in range(4)][-1] == pytest.approx(20.0)


def test_take__keys_are_independent() -> None:
    clock = Clock()
    buckets = _buckets(1, 60.0, clock)

    assert buckets.take("a") is None
    assert buckets.take("a") is not None
    assert buckets.take("b") is None


def test_take__count_zero_disables_the_limit() -> None:
    buckets = _buckets(0, 60.0, Clock())

    assert all(buckets.take("ip") is None for _ in range(10_000))
    assert len(buckets) == 0


def test_sweep__drops_refilled_buckets_only() -> None:
    clock = Clock()
    buckets = _buckets(2, 60.0, clock)
    buckets.take("idle")
    clock.now += 30.0  # "idle" is full again (one token per 30 s)
    buckets.take("busy")
    buckets.take("busy")

    buckets.sweep()

    assert len(buckets) == 1
    assert buckets.take("busy") is not None  # its state survived the sweep


def test_take__sweeps_idle_buckets_once_a_period() -> None:
    clock = Clock()
    buckets = _buckets(5, 60.0, clock)
    for n in range(50):
        buckets.take(f"ip{n}")

    clock.now += 61.0
    buckets.take("new")

    assert len(buckets) == 1


def test_take__max_keys_evicts_least_recently_used() -> None:
    clock = Clock()
    buckets = _buckets(1, 3600.0, clock, max_keys=3)
    for key in ("a", "b", "c"):
        buckets.take(key)
    buckets.take("a")  # a is used again: b is now the oldest

    buckets.take("d")

    assert len(buckets) == 3
    assert buckets.take("a") is not None  # still remembered, still empty
    assert buckets.take("b") is None  # forgotten: a fresh bucket


def test_config__rates_accept_zero_and_reject_junk() -> None:
    config = load_config(
        environ={"KIZUNA_RATE_INBOX": "0", "KIZUNA_RATE_LOGIN": "7", "KIZUNA_TRUSTED_PROXY": "1"}
    )
    assert (config.rate_inbox, config.rate_login, config.trusted_proxy) == (0, 7, True)
    for bad in ("-1", "1.5", "lots"):
        with pytest.raises(ConfigError, match="rate_post"):
            load_config(environ={"KIZUNA_RATE_POST": bad})


def test_bucket_of__five_minute_floor() -> None:
    moment = datetime(2025, 3, 1, 12, 34, 56, 789, tzinfo=UTC)

    assert bucket_of(moment) == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert bucket_of(datetime(2025, 3, 1, 12, 35, tzinfo=UTC)).minute == 35
