"""Per-domain memory of other servers, kept in the database and mirrored in memory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kizuna.services.accounts import utcnow
from kizuna.storage import repo
from kizuna.storage.engine import Database


class PeerSchemes:
    """Which HTTP signature scheme each peer accepted last (the double-knock's memory)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._known: dict[str, str | None] = {}

    async def scheme_for(self, domain: str) -> str | None:
        if domain not in self._known:
            async with self.db.begin() as session:
                peer = await repo.get_peer(session, domain)
            self._known[domain] = peer.signature_scheme if peer else None
        return self._known[domain]

    def preload(self, schemes: dict[str, str | None]) -> None:
        """Known from a batch's peer rows already: saves a query per new server."""
        self._known.update(schemes)

    async def remember(self, domain: str, scheme: str) -> None:
        async with self.db.begin() as session:
            await repo.remember_signature_scheme(session, domain, scheme, self.clock())
        self._known[domain] = scheme
