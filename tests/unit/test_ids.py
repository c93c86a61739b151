"""Unit tests for kizuna.storage.ids: time-sortable 64-bit ids."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from kizuna.storage.ids import SEQUENCE_BITS, IdGenerator, id_to_ms, snowflake

INT64_MAX = 2**63 - 1
T0 = 1_700_000_000.0  # 2023-11-14, in seconds


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_id_generator__clock_standing_still_still_increases() -> None:
    new_id = IdGenerator(clock=FakeClock(T0))

    ids = [new_id() for _ in range(1000)]

    assert all(a < b for a, b in pairwise(ids))


def test_id_generator__clock_going_backwards_still_increases() -> None:
    clock = FakeClock(T0)
    new_id = IdGenerator(clock=clock)
    before = new_id()

    clock.now = T0 - 3600
    after = [new_id() for _ in range(10)]

    assert before < after[0]
    assert all(a < b for a, b in pairwise(after))


def test_id_generator__later_ms_orders_after_earlier_ms() -> None:
    clock = FakeClock(T0)
    new_id = IdGenerator(clock=clock)
    early = [new_id() for _ in range(100)]

    clock.now = T0 + 0.001
    late = new_id()

    assert late > max(early)
    assert id_to_ms(late) == int((T0 + 0.001) * 1000)


def test_id_generator__later_ms_orders_after_earlier_ms_across_generators() -> None:
    # Another process: its own generator, its own random sequence start.
    for _ in range(50):
        early = IdGenerator(clock=FakeClock(T0))()
        late = IdGenerator(clock=FakeClock(T0 + 0.001))()
        assert late > early


def test_id_generator__id_carries_clock_ms() -> None:
    new_id = IdGenerator(clock=FakeClock(T0))

    assert id_to_ms(new_id()) == int(T0 * 1000)


@pytest.mark.parametrize("ms", [0, 1, 1_700_000_000_123, 7_258_118_400_000])
@pytest.mark.parametrize("sequence", [0, 1, (1 << SEQUENCE_BITS) - 1])
def test_id_to_ms__inverts_snowflake(ms: int, sequence: int) -> None:
    assert id_to_ms(snowflake(ms, sequence)) == ms


def test_snowflake__sequence_does_not_spill_into_ms() -> None:
    assert id_to_ms(snowflake(5, 1 << SEQUENCE_BITS)) == 5


def test_snowflake__fits_signed_64_bit_until_year_2200() -> None:
    ms = int(datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)

    value = snowflake(ms, (1 << SEQUENCE_BITS) - 1)

    assert 0 < value <= INT64_MAX


def test_id_generator__fits_signed_64_bit_in_year_2200() -> None:
    clock = FakeClock(datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())

    value = IdGenerator(clock=clock)()

    assert 0 < value <= INT64_MAX
