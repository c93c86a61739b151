"""Inbox accounting: refused requests per (5-minute bucket, sender domain, reason), and the
last accepted activity per domain, counted in memory and written in batches.

A refused request costs a dictionary increment, never an insert: a flood of bad requests
must not become a flood of writes. `flush()` runs every few seconds, on shutdown and before
the dashboard reads, so the figures there include this process's latest counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kizuna.clock import utcnow
from kizuna.storage import health
from kizuna.storage.engine import Database

logger = logging.getLogger(__name__)

REASONS = (
    "bad_json",
    "unsupported_type",
    "too_large",
    "signature",
    "forbidden",
    "suspended",
    "not_allowlisted",
    "rate_limited",
    "unknown_recipient",
    "other",
)
BUCKET = timedelta(minutes=5)
KEEP = timedelta(days=2)
FLUSH_EVERY = 5.0  # seconds
# Distinct (bucket, domain, reason) keys held between flushes; past it, counts from new
# domains land on "unknown" (a flood of made-up keyIds cannot grow memory without bound).
MAX_KEYS = 5_000
UNKNOWN = "unknown"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def bucket_of(moment: datetime) -> datetime:
    return moment - (moment - EPOCH) % BUCKET


class InboxAccounting:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._rejected: Counter[tuple[datetime, str, str]] = Counter()
        self._received: dict[str, datetime] = {}
        self._lock = asyncio.Lock()

    def rejected(self, domain: str | None, reason: str) -> None:
        if reason not in REASONS:
            reason = "other"
        key = (bucket_of(self.clock()), (domain or UNKNOWN).lower()[:255], reason)
        if key not in self._rejected and len(self._rejected) >= MAX_KEYS:
            key = (key[0], UNKNOWN, reason)
        self._rejected[key] += 1

    def received(self, domain: str) -> None:
        """An activity from `domain` was accepted (peer_domains.last_inbox_at)."""
        domain = domain.lower()[:255]
        if domain in self._received or len(self._received) < MAX_KEYS:
            self._received[domain] = self.clock()

    async def flush(self) -> None:
        """Write what was counted since the last flush (one transaction)."""
        async with self._lock:
            if not self._rejected and not self._received:
                return
            rejected, self._rejected = self._rejected, Counter()
            received, self._received = self._received, {}
            now = self.clock()
            try:
                async with self.db.begin() as session:
                    await health.add_rejections(session, rejected)
                    await health.delete_rejections_before(session, bucket_of(now - KEEP))
                    await health.note_inbox_receipts(session, received, now)
            except BaseException:
                # Put the counts back for the next flush rather than lose them.
                self._rejected.update(rejected)
                for domain, at in received.items():
                    self._received[domain] = max(at, self._received.get(domain, at))
                raise

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Flush every FLUSH_EVERY seconds until `stop`, then once more."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), FLUSH_EVERY)
            except TimeoutError:
                pass
            try:
                await self.flush()
            except Exception:
                logger.exception("flushing inbox accounting failed")
