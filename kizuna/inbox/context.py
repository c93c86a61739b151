"""What an inbox handler gets besides its typed activity: the transaction, the sender, and
the collaborators it may need."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kizuna.config import Config
from kizuna.federation.client import FederationClient
from kizuna.federation.policy import OPEN, Decision, FederationPolicy
from kizuna.inbox.notes import NoteStore
from kizuna.outbox.outbox import Outbox
from kizuna.services.surface import Surface
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, CustomEmoji

# (session, shortcode, domain, icon url, Emoji id) → the stored (and cached) custom emoji.
RemoteEmoji = Callable[[Session, str, str, str, str | None], Awaitable[CustomEmoji]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Deps:
    """Built once by the processor; shared by every activity it handles."""

    config: Config
    outbox: Outbox
    notes: NoteStore
    remote_emoji: RemoteEmoji
    surface: Surface
    policy: FederationPolicy | None
    clock: Callable[[], datetime]

    @property
    def client(self) -> FederationClient:
        return self.notes.client

    async def decide(self, domain: str) -> Decision:
        return OPEN if self.policy is None else (await self.policy.fresh()).decide(domain)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """One activity's handling: `actor` is who it acts as (the verified sender, or the
    vouched actor of what a community relayed)."""

    session: Session
    actor: Account
    deps: Deps

    def now(self) -> datetime:
        return self.deps.clock()

    def acting_as(self, actor: Account) -> Context:
        return replace(self, actor=actor)
