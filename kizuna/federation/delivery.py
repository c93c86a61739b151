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
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from kizuna import background
from kizuna.activitypub.ids import local_actor_urls
from kizuna.federation.client import FederationClient, RequestSigner
from kizuna.federation.errors import DomainPolicyFetchError, FetchError
from kizuna.federation.signatures import load_private_key_pem
from kizuna.storage import queue
from kizuna.storage.engine import Database
from kizuna.storage.models import Account, Delivery, PeerDomain
from kizuna.storage.states import DeliveryState

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(days=7)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=6)
UNAVAILABLE_AFTER = timedelta(days=1)
PROBE_EVERY = timedelta(hours=1)
LEASE = timedelta(minutes=2)
PER_DOMAIN = 4  # attempts in flight to one server, per worker
# Rows one running worker holds at once: under aiohttp's 100 connections (app.http_session),
# so an attempt never queues for a socket behind slow servers' attempts.
CAPACITY = 96
STOP_GRACE = 5.0  # seconds a stopping worker gives the attempts in flight
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
    state: DeliveryState
    status: int | None
    error: str | None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    attempts: list[tuple[queue.ClaimedDelivery, bytes]]  # with each activity's body
    taken: int  # rows leased, those deferred for an unavailable server included


class InFlight:
    """What a running worker holds: deliveries under way, and outcomes not yet recorded."""

    def __init__(self) -> None:
        self.tasks: dict[asyncio.Task[queue.Settlement], queue.ClaimedDelivery] = {}
        self.finished: list[queue.Settlement] = []
        self.per_domain: Counter[str] = Counter()
        self.changed = asyncio.Event()  # a delivery finished

    def start(self, item: queue.ClaimedDelivery, attempt: Awaitable[queue.Settlement]) -> None:
        task = asyncio.ensure_future(attempt)
        self.tasks[task] = item
        self.per_domain[item.delivery.domain] += 1
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[queue.Settlement]) -> None:
        item = self.tasks.pop(task)
        self.per_domain[item.delivery.domain] -= 1
        if not self.per_domain[item.delivery.domain]:
            del self.per_domain[item.delivery.domain]
        if not task.cancelled():
            error = task.exception()
            if error is None:
                self.finished.append(task.result())
            else:  # a bug, not a peer's failure: the lease lapses and the row is tried again
                logger.error("delivery %s failed", item.delivery.id, exc_info=error)
        self.changed.set()

    def busy_domains(self) -> list[str]:
        return [domain for domain, n in self.per_domain.items() if n >= PER_DOMAIN]

    def take_finished(self) -> list[queue.Settlement]:
        finished, self.finished = self.finished, []
        return finished


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
        capacity: int = CAPACITY,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        self.db = db
        self.client = client
        self.base_url = base_url
        self.clock = clock
        self.rng = rng or random.Random()
        self.batch = batch  # rows per claim
        self.capacity = capacity  # rows held at once by run_forever
        self.stop_grace = stop_grace
        self.wakeup = asyncio.Event()
        self._signers: dict[int, RequestSigner] = {}
        self._domain_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(PER_DOMAIN)
        )
        self._settled: list[Callable[[Sequence[queue.Settlement]], None]] = []

    def on_settled(self, callback: Callable[[Sequence[queue.Settlement]], None]) -> None:
        """Called with outcomes once they are committed (a post's live delivery view)."""
        self._settled.append(callback)

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
        """Deliver what is due now, waiting for every attempt; returns how many were taken."""
        claim = await self._claim(self.batch)
        if claim.taken:
            await self._record(
                await asyncio.gather(*(self._deliver(c, body) for c, body in claim.attempts))
            )
        return claim.taken

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`, claiming whenever a slot frees up or a row arrives and
        recording outcomes as they finish. Nothing waits for a whole batch: a server that
        hangs holds its own slots until the fetch timeout, never a new post to anyone else."""
        flight = InFlight()
        more = True  # the last claim may have left rows due
        try:
            while not stop.is_set():
                woken = self.wakeup.is_set()
                # Cleared before claiming: a row committed during the claim wakes us again.
                self.wakeup.clear()
                flight.changed.clear()
                try:
                    await self._record(flight.take_finished())
                    room = min(self.batch, self.capacity - len(flight.tasks))
                    if room > 0 and (more or woken):
                        busy = flight.busy_domains()
                        claim = await self._claim(room, per_domain=PER_DOMAIN, skip=busy)
                        for item, body in claim.attempts:
                            flight.start(item, self._deliver(item, body))
                        # A busy server's rows wait in the table (skipped, or beyond its
                        # share of the claim): claim again as soon as one of its slots frees.
                        more = claim.taken == room or bool(flight.busy_domains())
                        if claim.taken == room and len(flight.tasks) < self.capacity:
                            continue
                except Exception:
                    logger.exception("delivery cycle failed")
                    more = True
                waiting = (stop, self.wakeup, flight.changed)
                if not await background.wait_any(waiting, background.IDLE_POLL_SECONDS):
                    more = True  # other processes' rows, retries come due
        except asyncio.CancelledError:
            # Cancelled rather than stopped: nothing more is written; the leases lapse.
            for task in list(flight.tasks):
                task.cancel()
            raise
        await self._let_go(flight)

    async def _let_go(self, flight: InFlight) -> None:
        """Stopping: deliveries in flight get `stop_grace` seconds, then are cancelled and
        their leases given back, due at once for the next worker. A peer may have stored one
        already; it takes an activity once by id, so sending it again does no harm."""
        if flight.tasks:
            await asyncio.wait(list(flight.tasks), timeout=self.stop_grace)
        left = list(flight.tasks.items())
        for task, _ in left:
            task.cancel()
        await asyncio.gather(*(task for task, _ in left), return_exceptions=True)
        try:
            await self._record(flight.take_finished())
            async with self.db.begin() as session:
                await queue.release_deliveries(session, [item.delivery for _, item in left])
        except Exception:  # what is not written lapses with its lease: nothing is lost
            logger.exception("delivery outcomes not recorded on stopping")

    async def _claim(
        self, limit: int, *, per_domain: int | None = None, skip: Sequence[str] = ()
    ) -> Claim:
        now = self.clock()
        async with self.db.begin() as session:
            claimed = await queue.claim_deliveries(
                session,
                owner=secrets.token_hex(8),
                now=now,
                lease_until=now + LEASE,
                limit=limit,
                per_domain=per_domain,
                skip_domains=skip,
            )
            if not claimed:
                return Claim(attempts=[], taken=0)
            peers = await queue.peers(session, {c.delivery.domain for c in claimed}, now)
            waiting: defaultdict[str, list[Delivery]] = defaultdict(list)
            for item in claimed:
                peer = peers[item.delivery.domain]
                if peer.unavailable and (peer.next_probe_at or now) > now:
                    waiting[peer.domain].append(item.delivery)
            for domain, deliveries in waiting.items():
                # Untried while the server is unavailable: due again at its next probe.
                await queue.defer_deliveries(
                    session, deliveries, peers[domain].next_probe_at or now
                )
        self.client.schemes.preload(
            {domain: peer.signature_scheme for domain, peer in peers.items()}
        )
        bodies: dict[int, bytes] = {}  # encoded once per activity, not once per inbox
        attempts = []
        for item in claimed:
            if item.delivery.domain in waiting:
                continue
            if item.activity.id not in bodies:
                bodies[item.activity.id] = _encode(item.activity.raw)
            attempts.append((item, bodies[item.activity.id]))
        return Claim(attempts=attempts, taken=len(claimed))

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
            return Outcome(state=DeliveryState.FAILED, status=None, error=str(exc))
        except FetchError as exc:
            return self._retry(delivery.attempts, delivery.created_at, None, str(exc), None)
        status = result.status
        if 200 <= status < 300:
            return Outcome(state=DeliveryState.DELIVERED, status=status, error=None)
        if status == 410:
            return Outcome(state=DeliveryState.GONE, status=status, error="the inbox is gone (410)")
        if 300 <= status < 400:
            # An inbox that redirects a signed POST will not take it elsewhere either.
            return Outcome(state=DeliveryState.FAILED, status=status, error="the inbox redirected")
        if 400 <= status < 500 and status not in PERMANENT_4XX_EXCEPT:
            return Outcome(
                state=DeliveryState.FAILED, status=status, error=result.body[:500] or None
            )
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
            return Outcome(
                state=DeliveryState.FAILED, status=status, error=f"gave up after a week: {error}"
            )
        at = now + (wait if wait is not None else backoff(attempts, self.rng))
        return Outcome(state=DeliveryState.PENDING, status=status, error=error, next_attempt_at=at)

    async def _record(self, outcomes: Sequence[queue.Settlement]) -> None:
        """One transaction for the outcomes, and one peer update per server."""
        if not outcomes:
            return
        now = self.clock()
        by_domain: defaultdict[str, list[queue.Settlement]] = defaultdict(list)
        for outcome in outcomes:
            by_domain[outcome.delivery.domain].append(outcome)
        async with self.db.begin() as session:
            await queue.settle_deliveries(session, outcomes, now)
        # Health in its own transaction, rows locked in domain order: workers sharing servers
        # cannot deadlock, and a failure here can never undo the deliveries' outcomes.
        async with self.db.begin() as session:
            for domain in sorted(by_domain):
                # A fresh row: the signature scheme may have been learnt during the attempt.
                peer = await queue.peer(session, domain, now)
                self._update_health(peer, by_domain[domain], now)
        for callback in self._settled:
            callback(outcomes)

    def _update_health(
        self, peer: PeerDomain, results: list[queue.Settlement], now: datetime
    ) -> None:
        answered = any(r.state != DeliveryState.PENDING and r.status is not None for r in results)
        failing = any(r.state == DeliveryState.PENDING and r.status != 429 for r in results)
        if answered:
            if peer.unavailable:
                logger.info("%s answers again: available", peer.domain)
            peer.failing_since = None
            peer.unavailable = False
            peer.next_probe_at = None
            if any(r.state == DeliveryState.DELIVERED for r in results):
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
