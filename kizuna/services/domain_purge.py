"""What a domain suspension does to stored data, in the background.

A suspended server's accounts stay as stubs (so a later Delete or a lifted suspension still
finds them), but their posts, reactions, notifications and follows in both directions are
removed in batches, and deliveries queued for the server end as failed; Mastodon's
BlockDomainService does the same. Lifting the suspension restores nothing: follows must be made
again and posts arrive as the server sends them (Mastodon's UnblockDomainService likewise).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from kizuna.background import run_until_stopped
from kizuna.clock import utcnow
from kizuna.storage import domain_purge
from kizuna.storage.engine import Database

logger = logging.getLogger(__name__)


class DomainPurger:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.wakeup = asyncio.Event()

    async def lift(self, domain: str) -> int:
        """Nothing to un-suspend (accounts are hidden by the policy itself); kept as the one
        place to add restoration should it ever keep data. Returns accounts restored."""
        return 0

    async def run_once(self, batch: int = 500) -> int:
        """One batch for each suspended domain not yet purged; returns rows removed."""
        async with self.db.begin() as session:
            domains = await domain_purge.unpurged_suspensions(session)
        total = 0
        for domain in domains:
            async with self.db.begin() as session:
                now = self.clock()
                failed = await domain_purge.fail_pending_deliveries(session, domain, now)
                removed = await domain_purge.purge_batch(session, domain, batch=batch)
                if removed == 0:
                    await domain_purge.mark_purged(session, domain, now)
                    logger.info("suspension of %s: stored content purged", domain)
            total += removed + failed
        return total

    async def purge_all(self) -> None:
        """Until done (tests and the CLI): the worker loop does it a batch per cycle."""
        while await self.run_once():
            pass

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped("domain purge", self.run_once, self.wakeup, stop)
