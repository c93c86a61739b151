"""The live hub: commits become hints for this process's streams and workers, and, when
several processes share a PostgreSQL database, for theirs too (pg_bridge)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from kizuna.realtime.broker import Broker
from kizuna.realtime.events import LiveEvent
from kizuna.storage.models import Follow, Notification, Post
from kizuna.storage.queue import DeliveriesDue


class Relay(Protocol):
    """Carries hints to and from the other processes (pg_bridge) while `run` runs."""

    def send(self, events: list[LiveEvent]) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...


def events_from(touched: Sequence[object]) -> list[LiveEvent]:
    """The hints one committed transaction gives: new posts and notifications, changed
    follows, and a wake-up for delivery workers when it made deliveries due."""
    events: list[LiveEvent] = []
    seen: set[tuple[str, int]] = set()
    queued = False
    for obj in touched:
        if isinstance(obj, Post):
            if ("post", obj.id) not in seen:
                seen.add(("post", obj.id))
                events.append(
                    LiveEvent(
                        kind="post",
                        id=obj.id,
                        account_id=obj.account_id,
                        community_id=obj.community_id,
                        in_reply_to_id=obj.in_reply_to_id,
                        reblog_of_id=obj.reblog_of_id,
                    )
                )
        elif isinstance(obj, Notification):
            if ("notification", obj.id) not in seen:
                seen.add(("notification", obj.id))
                events.append(LiveEvent(kind="notification", id=obj.id, account_id=obj.account_id))
        elif isinstance(obj, Follow):
            if ("follow", obj.account_id) not in seen:
                seen.add(("follow", obj.account_id))
                events.append(LiveEvent(kind="follow", account_id=obj.account_id))
        elif isinstance(obj, DeliveriesDue):
            queued = True
    if queued:
        events.append(LiveEvent(kind="delivery"))
    return events


class LiveHub:
    def __init__(self, broker: Broker, relay: Relay | None) -> None:
        """`relay`: None when no other process can share the database (SQLite)."""
        self.broker = broker
        self.relay = relay

    def capture(self, touched: Sequence[object]) -> None:
        """A Database commit listener (storage.engine.Database.on_commit)."""
        events = events_from(touched)
        if events:
            self.publish(events)

    def publish(self, events: list[LiveEvent]) -> None:
        self.broker.dispatch(events)
        if self.relay is not None:
            self.relay.send(events)
