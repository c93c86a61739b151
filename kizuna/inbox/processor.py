"""The inbox worker: turns stored activities into state (follows, posts, deletions…).

Each activity is leased, checked against its sender's standing, handed to the handler for
its type (kizuna.inbox.handlers.registry) and marked processed, in one transaction; a
handler that fails is retried a few times (`queue.MAX_INBOX_ATTEMPTS`) with its error kept
on the row. Handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from kizuna.background import run_until_stopped
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import KizunaError
from kizuna.federation.errors import DomainRefusedError, PeerUnavailableError
from kizuna.federation.policy import FederationPolicy
from kizuna.inbox.context import Context, Deps, RemoteEmoji
from kizuna.inbox.handlers.registry import dispatch
from kizuna.inbox.notes import NoteStore
from kizuna.outbox.outbox import Outbox
from kizuna.services.surface import Surface
from kizuna.storage import queue, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import Account, InboxActivity

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
SUSPENDED_MAY_SEND = frozenset({"Delete", "Reject", "Undo", "Update"})


class InboxProcessor:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        notes: NoteStore,
        remote_emoji: RemoteEmoji,
        surface: Surface,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 64,
        policy: FederationPolicy | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.batch = batch
        self.wakeup = asyncio.Event()
        self.deps = Deps(
            config=config,
            outbox=outbox,
            notes=notes,
            remote_emoji=remote_emoji,
            surface=surface,
            policy=policy,
            clock=clock,
        )

    async def run_single_cycle(self) -> int:
        now = self.clock()
        async with self.db.begin() as session:
            rows = await queue.claim_inbox(
                session,
                owner=secrets.token_hex(8),
                now=now,
                lease_until=now + LEASE,
                limit=self.batch,
            )
        for row in rows:
            error, final = None, True
            try:
                # Applied and marked done in one transaction: one commit per activity.
                async with self.db.begin() as session:
                    await self.dispatch(session, row)
                    await queue.settle_inbox(
                        session, row, now=self.clock(), error=None, retry_at=None
                    )
                continue
            except PeerUnavailableError as exc:
                # The origin may answer later: kept for another attempt (at most a few).
                error, final = f"{type(exc).__name__}: {exc}", False
                logger.info("inbox %s %s waits: %s", row.activity_type, row.activity_id, exc)
            except KizunaError as exc:
                error = f"{type(exc).__name__}: {exc}"  # refused for good, reason kept
                logger.info("inbox %s %s refused: %s", row.activity_type, row.activity_id, exc)
            except Exception as exc:
                error, final = f"{type(exc).__name__}: {exc}", False
                logger.exception("inbox %s %s failed", row.activity_type, row.activity_id)
            now = self.clock()
            retry_at = None if final else now + timedelta(minutes=2**row.attempts)
            async with self.db.begin() as session:
                await queue.settle_inbox(session, row, now=now, error=error, retry_at=retry_at)
        return len(rows)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped("inbox", self.run_single_cycle, self.wakeup, stop)

    async def dispatch(self, session: Session, row: InboxActivity) -> None:
        actor = await repo.get_account_by_uri(session, row.actor_uri)
        if actor is None:
            raise KizunaError(f"unknown sender {row.actor_uri}")
        decision = await self.deps.decide(actor.domain)
        if decision.refused:
            # Accepted before the server was suspended (or allow-listing began): not applied.
            raise DomainRefusedError(f"{decision.reason}: {actor.domain}", reason=decision.reason)
        if actor.suspended_at is not None and row.activity_type not in SUSPENDED_MAY_SEND:
            # Mastodon's ProcessCollectionService: a suspended account may only retract.
            logger.info("ignoring %s from suspended %s", row.activity_type, actor.acct)
            return
        if not await dispatch(self.context(session, actor), row.raw):
            logger.debug("ignoring %s %s", row.activity_type, row.activity_id)

    def context(self, session: Session, actor: Account) -> Context:
        return Context(session=session, actor=actor, deps=self.deps)
