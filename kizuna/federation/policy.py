"""The instance's federation policy as one in-memory snapshot, asked at every door.

Inbox, signed fetches, outbound delivery, lookups and media all ask `decide(host)`; the
snapshot reloads when a change bumps the stored version (checked at most every few seconds, so
a `kizuna worker` process sharing the database follows an admin's change made in `serve`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kizuna.federation.domains import covering
from kizuna.storage import domain_policies
from kizuna.storage.engine import Database
from kizuna.storage.states import Severity

__all__ = ["OPEN", "Decision", "FederationPolicy"]


@dataclass(frozen=True, slots=True)
class Decision:
    refused: bool = False  # suspended, or not on the allow-list in allow-list mode
    silenced: bool = False
    reject_media: bool = False
    reject_reports: bool = False
    reason: str = ""  # "suspended" | "not allow-listed" | ""
    rule: str | None = None  # the domain of the policy that applied


OPEN = Decision()


@dataclass(frozen=True, slots=True)
class _Rule:
    severity: Severity
    reject_media: bool
    reject_reports: bool


class FederationPolicy:
    def __init__(
        self,
        db: Database,
        *,
        own_hosts: frozenset[str] = frozenset(),
        ttl_seconds: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.own_hosts = own_hosts
        self.ttl = ttl_seconds
        self.monotonic = monotonic
        self._rules: dict[str, _Rule] = {}
        self._allowed: frozenset[str] = frozenset()
        self._allowlist_mode = False
        self._version: str | None = None
        self._checked = float("-inf")
        self._silenced: tuple[str, ...] = ()

    async def fresh(self) -> FederationPolicy:
        """Reload if another process (or request) changed the policy; cheap when unchanged."""
        now = self.monotonic()
        if now - self._checked < self.ttl:
            return self
        self._checked = now
        async with self.db.begin() as session:
            version = await domain_policies.version(session)
            if version == self._version:
                return self
            rows = await domain_policies.all_policies(session)
            allowed = await domain_policies.allowed_domains(session)
            mode = await domain_policies.mode(session)
        self._rules = {r.domain: _Rule(r.severity, r.reject_media, r.reject_reports) for r in rows}
        self._allowed = frozenset(a.domain for a in allowed)
        self._allowlist_mode = mode == "allowlist"
        self._silenced = tuple(
            sorted(d for d, r in self._rules.items() if r.severity == Severity.SILENCE)
        )
        self._version = version
        return self

    async def reload(self) -> None:
        """After a change made by this process: apply it now, not after the TTL."""
        self._checked = float("-inf")
        self._version = None
        await self.fresh()

    @property
    def allowlist_mode(self) -> bool:
        return self._allowlist_mode

    def decide(self, host: str) -> Decision:
        """The snapshot's answer for a remote host (our own hosts are always open)."""
        host = host.lower().rstrip(".")
        if not host or host in self.own_hosts:
            return OPEN
        rule_domain = covering(host, self._rules.keys())
        rule = self._rules.get(rule_domain) if rule_domain else None
        if rule is not None and rule.severity == Severity.SUSPEND:
            return Decision(
                refused=True,
                reject_media=True,
                reject_reports=True,
                reason="suspended",
                rule=rule_domain,
            )
        if self._allowlist_mode and covering(host, self._allowed) is None:
            return Decision(
                refused=True, reject_media=True, reject_reports=True, reason="not allow-listed"
            )
        if rule is None:
            return OPEN
        return Decision(
            silenced=rule.severity == Severity.SILENCE,
            reject_media=rule.reject_media,
            reject_reports=rule.reject_reports,
            rule=rule_domain,
        )

    async def refusal(self, host: str, *, media: bool = False) -> str | None:
        """Why we must not contact `host` (None: we may); `media` also honours reject_media."""
        decision = (await self.fresh()).decide(host)
        if decision.refused:
            return decision.reason
        if media and decision.reject_media:
            return "media rejected"
        return None

    def silenced_domains(self) -> tuple[str, ...]:
        """Domains whose accounts are limited (each also covers its subdomains), for SQL filters."""
        return self._silenced
