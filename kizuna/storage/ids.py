"""Time-sortable 64-bit ids (Snowflake-style, as Mastodon uses): ms since epoch << 16 | sequence.

Timelines page by id (`?max_id=`), so an id must order like its creation time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

SEQUENCE_BITS = 16
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1


def snowflake(ms: int, sequence: int) -> int:
    return (ms << SEQUENCE_BITS) | (sequence & _SEQUENCE_MASK)


def id_to_ms(value: int) -> int:
    return value >> SEQUENCE_BITS


class IdGenerator:
    """Monotonic within a process; a random start per millisecond keeps processes apart."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last = 0

    def __call__(self) -> int:
        with self._lock:
            candidate = snowflake(int(self._clock() * 1000), secrets.randbits(SEQUENCE_BITS - 2))
            self._last = max(candidate, self._last + 1)
            return self._last


new_id = IdGenerator()
