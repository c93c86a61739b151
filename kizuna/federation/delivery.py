"""Delivery workers: lease due rows, sign and POST, record the outcome.

Retries back off exponentially with jitter for about a week (Mastodon retries for days);
410 and other permanent 4xx stop at once; 429 honours Retry-After. A domain failing for a
day is marked unavailable: its deliveries wait, and one probe an hour tests it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from kizuna.activitypub.errors import DomainPolicyFetchError, FetchError
from kizuna.federation.client import FederationClient, RequestSigner
from kizuna.federation.loop import run_until_stopped
from kizuna.federation.signatures import load_private_key_pem
from kizuna.outbox.urls import local_actor_urls
from kizuna.storage import queue
from kizuna.storage.engine import Database
from kizuna.storage.models import Account, Delivery, PeerDomain

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(days=7)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=6)
UNAVAILABLE_AFTER = timedelta(days=1)
PROBE_EVERY = timedelta(hours=1)
LEASE = timedelta(minutes=2)
PER_DOMAIN = 4
PERMANENT_4XX_EXCEPT = frozenset({408, 429})


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """30 s, 1 min, 2 min … capped at 6 h, each ±20 % so a recovering peer is not stampeded."""
    gap = min(FIRST_RETRY * (1 << min(attempts, 20)), MAX_RETRY_GAP)
    return gap * rng.uniform(0.8, 1.2)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=min(int(value), 86400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    state: str  # delivered | pending | failed | gone
    status: int | None
    error: str | None
    next_attempt_at: datetime | None = None


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        client: FederationClient,
        *,
        base_url: str,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        batch: int = 64,
    ) -> None:
        self.db = db
        self.client = client
        self.base_url = base_url
        self.clock = clock
        self.rng = rng or random.Random()
        self.batch = batch
        self.wakeup = asyncio.Event()
        self._signers: dict[int, RequestSigner] = {}
        self._domain_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(PER_DOMAIN)
        )

    def _signer(self, account: Account) -> RequestSigner:
        signer = self._signers.get(account.id)
        if signer is None:
            assert account.private_key_pem is not None, "only local actors send"
            urls = local_actor_urls(self.base_url, account.actor_type, account.username)
            signer = RequestSigner(
                key_id=urls.key_id, private_key=load_private_key_pem(account.private_key_pem)
            )
            self._signers[account.id] = signer
        return signer

    async def run_single_cycle(self) -> int:
        """Deliver what is due now; returns how many deliveries were taken."""
        now = self.clock()
        async with self.db.begin() as session:
            claimed = await queue.claim_deliveries(
                session,
                owner=secrets.token_hex(8),
                now=now,
                lease_until=now + LEASE,
                limit=self.batch,
            )
            if not claimed:
                return 0
            peers = await queue.peers(session, {c.delivery.domain for c in claimed}, now)
        if self.client.schemes is not None:
            self.client.schemes.preload(
                {domain: peer.signature_scheme for domain, peer in peers.items()}
            )
        waiting = [
            c.delivery
            for c in claimed
            if peers[c.delivery.domain].unavailable
            and (peers[c.delivery.domain].next_probe_at or now) > now
        ]
        deferred_ids = {d.id for d in waiting}
        bodies: dict[int, bytes] = {}  # encoded once per activity, not once per inbox
        for item in claimed:
            if item.activity.id not in bodies:
                bodies[item.activity.id] = _encode(item.activity.raw)
        attempts = [c for c in claimed if c.delivery.id not in deferred_ids]
        outcomes = await asyncio.gather(
            *(self._deliver(c, bodies[c.activity.id]) for c in attempts)
        )
        await self._record(outcomes, peers, waiting)
        return len(claimed)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped("delivery", self.run_single_cycle, self.wakeup, stop)

    async def _deliver(self, item: queue.ClaimedDelivery, body: bytes) -> queue.Settlement:
        async with self._domain_slots[item.delivery.domain]:
            outcome = await self._attempt(item, body)
        return queue.Settlement(
            delivery=item.delivery,
            state=outcome.state,
            status=outcome.status,
            error=outcome.error,
            next_attempt_at=outcome.next_attempt_at,
        )

    async def _attempt(self, item: queue.ClaimedDelivery, body: bytes) -> Outcome:
        delivery = item.delivery
        now = self.clock()
        try:
            result = await self.client.post_signed(
                delivery.inbox_url, body, self._signer(item.sender)
            )
        except DomainPolicyFetchError as exc:
            # Suspended or not allow-listed: visibly failed, never retried into the void.
            return Outcome(state="failed", status=None, error=str(exc))
        except FetchError as exc:
            return self._retry(delivery.attempts, delivery.created_at, None, str(exc), None)
        status = result.status
        if 200 <= status < 300:
            return Outcome(state="delivered", status=status, error=None)
        if status == 410:
            return Outcome(state="gone", status=status, error="the inbox is gone (410)")
        if 300 <= status < 400:
            # An inbox that redirects a signed POST will not take it elsewhere either.
            return Outcome(state="failed", status=status, error="the inbox redirected")
        if 400 <= status < 500 and status not in PERMANENT_4XX_EXCEPT:
            return Outcome(state="failed", status=status, error=result.body[:500] or None)
        wait = retry_after(result.retry_after, now) if status == 429 else None
        return self._retry(delivery.attempts, delivery.created_at, status, result.body[:500], wait)

    def _retry(
        self,
        attempts: int,
        created_at: datetime,
        status: int | None,
        error: str | None,
        wait: timedelta | None,
    ) -> Outcome:
        now = self.clock()
        if now - created_at > GIVE_UP_AFTER:
            return Outcome(state="failed", status=status, error=f"gave up after a week: {error}")
        at = now + (wait if wait is not None else backoff(attempts, self.rng))
        return Outcome(state="pending", status=status, error=error, next_attempt_at=at)

    async def _record(
        self,
        outcomes: list[queue.Settlement],
        peers: dict[str, PeerDomain],
        waiting: list[Delivery],
    ) -> None:
        """One transaction for the whole batch, and one peer update per server."""
        now = self.clock()
        by_domain: defaultdict[str, list[queue.Settlement]] = defaultdict(list)
        for outcome in outcomes:
            by_domain[outcome.delivery.domain].append(outcome)
        async with self.db.begin() as session:
            await queue.settle_deliveries(session, outcomes, now)
            for delivery in waiting:
                probe = peers[delivery.domain].next_probe_at or now
                await queue.defer_deliveries(session, [delivery], probe)
        # Health in its own transaction, rows locked in domain order: workers sharing servers
        # cannot deadlock, and a failure here can never undo the deliveries' outcomes.
        async with self.db.begin() as session:
            for domain in sorted(by_domain):
                # A fresh row: the signature scheme may have been learnt during the batch.
                peer = await queue.peer(session, domain, now)
                self._update_health(peer, by_domain[domain], now)

    def _update_health(
        self, peer: PeerDomain, results: list[queue.Settlement], now: datetime
    ) -> None:
        answered = any(r.state != "pending" and r.status is not None for r in results)
        failing = any(r.state == "pending" and r.status != 429 for r in results)
        if answered:
            if peer.unavailable:
                logger.info("%s answers again: available", peer.domain)
            peer.failing_since = None
            peer.unavailable = False
            peer.next_probe_at = None
            if any(r.state == "delivered" for r in results):
                peer.last_success_at = now
        elif failing:
            peer.failing_since = peer.failing_since or now
            if now - peer.failing_since >= UNAVAILABLE_AFTER:
                if not peer.unavailable:
                    logger.warning(
                        "%s failing since %s: marked unavailable", peer.domain, peer.failing_since
                    )
                peer.unavailable = True
                peer.next_probe_at = now + PROBE_EVERY
        peer.updated_at = now


def _encode(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
