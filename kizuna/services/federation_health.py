"""The federation health dashboard: per-domain delivery state, queue and inbox figures, and
the two queue actions an admin may take for one domain (retry now, purge)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, ValidationError
from kizuna.federation.policy import FederationPolicy
from kizuna.services.inbox_accounting import InboxAccounting
from kizuna.storage import audit, health
from kizuna.storage.engine import Database
from kizuna.storage.models import Account
from kizuna.storage.states import DeliveryState

QUANTILES = (0.5, 0.9, 0.99)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PER_PAGE = 50
MAX_DOMAIN = 255


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainHealth:
    domain: str
    software: str | None
    followers: int
    following: int
    pending: int
    retrying: int
    last_success_at: datetime | None
    last_inbox_at: datetime | None
    delivered_day: int
    failed_day: int
    rejected_day: int
    circuit: str  # "unavailable" (waiting for the next probe) | "failing" | "ok"
    failing_since: datetime | None
    next_probe_at: datetime | None
    policy: str  # "suspended" | "not allow-listed" | "silenced" | ""

    @property
    def failure_rate(self) -> float | None:
        finished = self.delivered_day + self.failed_day
        return self.failed_day / finished if finished else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    delivered: int
    failed: int  # failed or gone
    latency: dict[str, float | None]  # "p50" … → seconds from queueing to delivery
    rejections: dict[str, int]  # inbox rejection reason → count


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceHealth:
    queue: health.QueueSummary
    hour: Window
    day: Window
    top_rejected: list[tuple[str, int]]  # sender domains with the most refused requests today


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainPage:
    domains: list[DomainHealth]
    total: int
    page: int
    pages: int
    search: str


def _rank(state: health.DomainState) -> tuple[int, datetime, int, str]:
    """Failing first: unavailable, then failing (longest first), then failures today."""
    group = 0 if state.unavailable else 1 if state.failing_since else 2 if state.failed else 3
    since = state.failing_since or datetime.max.replace(tzinfo=UTC)
    return group, since, -state.failed, state.domain


class FederationHealth:
    def __init__(
        self,
        db: Database,
        policy: FederationPolicy,
        accounting: InboxAccounting,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.policy = policy
        self.accounting = accounting
        self.clock = clock

    async def instance(self) -> InstanceHealth:
        await self.accounting.flush()  # this process's latest counts, not 5 s old ones
        now = self.clock()
        async with self.db.begin() as session:
            queue = await health.queue_summary(session, now)
            windows = []
            for span in (HOUR, DAY):
                outcomes = await health.outcomes_since(session, now - span)
                latency = await health.latency_percentiles(session, now - span, QUANTILES)
                windows.append(
                    Window(
                        delivered=outcomes.get(DeliveryState.DELIVERED, 0),
                        failed=sum(outcomes.get(s, 0) for s in health.FINISHED_FAILED),
                        latency={
                            f"p{round(q * 100)}": v for q, v in zip(QUANTILES, latency, strict=True)
                        },
                        rejections=await health.rejection_reasons(session, now - span),
                    )
                )
            top = await health.top_rejected_domains(session, now - DAY)
        return InstanceHealth(queue=queue, hour=windows[0], day=windows[1], top_rejected=top)

    async def domains(self, *, search: str = "", page: int = 1) -> DomainPage:
        search = search.strip().lower()[:MAX_DOMAIN]
        if page < 1:
            raise ValidationError("the page number starts at 1", field="page")
        await self.accounting.flush()
        now = self.clock()
        policy = await self.policy.fresh()
        async with self.db.begin() as session:
            states = sorted(await health.domain_states(session, now - DAY, search), key=_rank)
            pages = max(1, -(-len(states) // PER_PAGE))
            shown = states[(page - 1) * PER_PAGE : page * PER_PAGE]
            names = [s.domain for s in shown]
            counts = await health.domain_counts(session, names)
            rejected = await health.rejections_by_domain(session, now - DAY, names)
        rows = []
        for state in shown:
            c = counts.get(state.domain, health.DomainCounts())
            decision = policy.decide(state.domain)
            rows.append(
                DomainHealth(
                    domain=state.domain,
                    software=state.software,
                    followers=c.followers,
                    following=c.following,
                    pending=c.pending,
                    retrying=c.retrying,
                    last_success_at=state.last_success_at,
                    last_inbox_at=state.last_inbox_at,
                    delivered_day=state.delivered,
                    failed_day=state.failed,
                    rejected_day=rejected.get(state.domain, 0),
                    circuit="unavailable"
                    if state.unavailable
                    else "failing"
                    if state.failing_since
                    else "ok",
                    failing_since=state.failing_since,
                    next_probe_at=state.next_probe_at,
                    policy=decision.reason
                    if decision.refused
                    else "silenced"
                    if decision.silenced
                    else "",
                )
            )
        return DomainPage(domains=rows, total=len(states), page=page, pages=pages, search=search)

    async def _known(self, domain: str) -> str:
        domain = domain.strip().lower()
        if not domain or len(domain) > MAX_DOMAIN:
            raise ValidationError("give a domain name", field="domain")
        async with self.db.begin() as session:
            if not await health.domain_known(session, domain):
                raise NotFoundError(f"no server {domain[:100]} is known here")
        return domain

    async def retry(self, admin: Account, domain: str) -> int:
        """Pending deliveries to `domain` due now, its circuit breaker closed; returns how
        many deliveries were made due."""
        domain = await self._known(domain)
        now = self.clock()
        async with self.db.begin() as session:
            count = await health.retry_domain(session, domain, now)
            await audit.record(
                session,
                account_id=admin.id,
                action="domain.retry_deliveries",
                target_type="domain",
                target=domain,
                now=now,
                data={"deliveries": count},
            )
        return count

    async def purge(self, admin: Account, domain: str) -> int:
        """Pending deliveries to `domain` marked failed ("purged by admin"); returns how many."""
        domain = await self._known(domain)
        now = self.clock()
        async with self.db.begin() as session:
            count = await health.purge_domain(session, domain, now)
            await audit.record(
                session,
                account_id=admin.id,
                action="domain.purge_deliveries",
                target_type="domain",
                target=domain,
                now=now,
                data={"deliveries": count},
            )
        return count
