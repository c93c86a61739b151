"""Per-domain memory of other servers, kept in the database and mirrored in memory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from kizuna.activitypub.nodeinfo import nodeinfo_href, software_name
from kizuna.clock import utcnow
from kizuna.errors import KizunaError
from kizuna.federation.client import FederationClient
from kizuna.storage import repo
from kizuna.storage.engine import Database

logger = logging.getLogger(__name__)

SOFTWARE_FRESH = timedelta(days=7)
SOFTWARE_RETRY = timedelta(hours=6)  # after a failed NodeInfo fetch


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


class PeerSoftware:
    """What software each peer runs (NodeInfo `software.name`), learnt when one of its
    accounts is first fetched and refreshed weekly. It decides in which dialect a reaction is
    sent; reading it (`known`) never touches the network, so reacting stays fast."""

    def __init__(
        self, db: Database, client: FederationClient, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.client = client
        self.clock = clock

    async def known(self, domain: str) -> str | None:
        async with self.db.begin() as session:
            peer = await repo.get_peer(session, domain)
        return peer.software if peer is not None else None

    async def learn(self, domain: str) -> str | None:
        """Ask the peer's NodeInfo unless we asked recently; failures are remembered too."""
        now = self.clock()
        async with self.db.begin() as session:
            peer = await repo.get_peer(session, domain)
        if peer is not None and peer.software_checked_at is not None:
            fresh = SOFTWARE_FRESH if peer.software else SOFTWARE_RETRY
            if now - peer.software_checked_at < fresh:
                return peer.software
        name = await self._fetch(domain)
        async with self.db.begin() as session:
            await repo.remember_software(session, domain, name, now)
        return name

    async def _fetch(self, domain: str) -> str | None:
        try:
            links = await self.client.get_json(
                f"https://{domain}/.well-known/nodeinfo", accept="application/json"
            )
            href = nodeinfo_href(links.doc)
            if href is None:
                return None
            return software_name((await self.client.get_json(href, accept="application/json")).doc)
        except KizunaError as exc:
            logger.info("no NodeInfo from %s: %s", domain, exc)
            return None
