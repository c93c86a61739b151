"""The queue rows' lifecycles: for each state, the states that may follow it, declared once
(GoToSocial's and Takahē's "Stator" idea). kizuna.storage.queue moves rows only through them:
a move the table does not allow raises IllegalTransitionError (a bug, never a peer's doing).

Deliveries (Delivery.state, stored):

    pending ──┬─> pending     retried later, or deferred while its server is unavailable
              ├─> delivered
              ├─> failed      refused for good, given up after a week, or purged
              └─> gone        the inbox answered 410

Received activities (InboxActivity; derived from processed_at, error and lease_owner):

    queued ──> leased ──┬─> processed
                        ├─> refused     for good; `error` says why
                        ├─> queued      to be retried, not before `lease_until`
                        └─> leased      its lease ran out (a crashed worker): claimed again

A received activity that used MAX_INBOX_ATTEMPTS stays queued, never claimed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from kizuna.storage.models import InboxActivity
from kizuna.storage.states import DeliveryState

S = TypeVar("S", bound=StrEnum)


class IllegalTransitionError(RuntimeError):
    pass


class Lifecycle(Generic[S]):
    def __init__(self, name: str, initial: S, moves: Mapping[S, Iterable[S]]) -> None:
        self.name = name
        self.initial = initial
        self.moves = {state: frozenset(after) for state, after in moves.items()}

    def move(self, before: S, after: S) -> S:
        """`after`, when a row in `before` may go there; else IllegalTransitionError."""
        if after not in self.moves[before]:
            raise IllegalTransitionError(f"a {self.name} cannot go from {before} to {after}")
        return after

    def sources(self, after: S) -> tuple[S, ...]:
        """The states a row may be in to go to `after` (for an UPDATE's WHERE)."""
        return tuple(state for state, nexts in self.moves.items() if after in nexts)


DELIVERY = Lifecycle(
    "delivery",
    DeliveryState.PENDING,
    {
        DeliveryState.PENDING: (
            DeliveryState.PENDING,
            DeliveryState.DELIVERED,
            DeliveryState.FAILED,
            DeliveryState.GONE,
        ),
        DeliveryState.DELIVERED: (),
        DeliveryState.FAILED: (),
        DeliveryState.GONE: (),
    },
)


class InboxState(StrEnum):
    QUEUED = "queued"  # received, or waiting for its retry
    LEASED = "leased"  # a worker took it
    PROCESSED = "processed"
    REFUSED = "refused"


INBOX = Lifecycle(
    "received activity",
    InboxState.QUEUED,
    {
        InboxState.QUEUED: (InboxState.LEASED,),
        InboxState.LEASED: (
            InboxState.PROCESSED,
            InboxState.REFUSED,
            InboxState.QUEUED,
            InboxState.LEASED,
        ),
        InboxState.PROCESSED: (),
        InboxState.REFUSED: (),
    },
)


def inbox_state(row: InboxActivity) -> InboxState:
    if row.processed_at is not None:
        return InboxState.PROCESSED if row.error is None else InboxState.REFUSED
    return InboxState.LEASED if row.lease_owner is not None else InboxState.QUEUED
