"""The in-process broker: hints from commits to the open streams that care about them.

Each stream subscribes with keys ("author", 12), ("community", 7), ("reply_to", 99),
("notify", 12), ("follow", 12); an event reaches only the subscriptions holding one of its
keys, so dispatch costs the same with ten streams open or ten thousand. A subscription keeps
at most `limit` hints: past that it only remembers that it overflowed, and the stream catches
up from the database (memory per stream stays bounded however slow its reader).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from kizuna.realtime.events import LiveEvent

Key = tuple[str, int]
PENDING_LIMIT = 256


def event_keys(event: LiveEvent) -> list[Key]:
    if event.kind == "post":
        keys: list[Key] = [("author", event.account_id)]
        if event.community_id is not None:
            keys.append(("community", event.community_id))
        if event.in_reply_to_id is not None:
            keys.append(("reply_to", event.in_reply_to_id))
        return keys
    if event.kind == "notification":
        return [("notify", event.account_id)]
    if event.kind == "follow":
        return [("follow", event.account_id)]
    return []


class Subscription:
    def __init__(self, broker: Broker, limit: int) -> None:
        self._broker = broker
        self.limit = limit
        self.keys: set[Key] = set()
        self.pending: list[LiveEvent] = []
        # Hints were dropped (or may have been: a lost connection to other processes);
        # the stream reads what it missed from the database.
        self.overflowed = False
        self.ready = asyncio.Event()

    def offer(self, event: LiveEvent) -> None:
        if len(self.pending) >= self.limit:
            self.overflowed = True
        else:
            self.pending.append(event)
        self.ready.set()

    def mark_lost(self) -> None:
        self.overflowed = True
        self.ready.set()

    def take(self) -> tuple[list[LiveEvent], bool]:
        """The hints so far and whether any were lost; both reset."""
        events, lost = self.pending, self.overflowed
        self.pending, self.overflowed = [], False
        self.ready.clear()
        return events, lost

    def watch(self, keys: Iterable[Key]) -> None:
        self._broker._watch(self, set(keys) - self.keys)

    def replace_keys(self, kind: str, ids: Iterable[int]) -> None:
        """Watch exactly `ids` of `kind` (e.g. the authors a home feed follows now)."""
        wanted = {(kind, i) for i in ids}
        current = {k for k in self.keys if k[0] == kind}
        self._broker._unwatch(self, current - wanted)
        self._broker._watch(self, wanted - current)

    def close(self) -> None:
        self._broker._unwatch(self, set(self.keys))
        self._broker._subscriptions.discard(self)


class Broker:
    def __init__(self, wake: Mapping[str, Callable[[], None]] | None = None) -> None:
        """`wake`: what to call for every event of a kind (queue wake-ups: delivery, inbox)."""
        self._index: defaultdict[Key, set[Subscription]] = defaultdict(set)
        self._subscriptions: set[Subscription] = set()
        self._wake = dict(wake or {})

    @property
    def open_subscriptions(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, keys: Iterable[Key] = (), *, limit: int = PENDING_LIMIT) -> Subscription:
        subscription = Subscription(self, limit)
        self._subscriptions.add(subscription)
        subscription.watch(keys)
        return subscription

    def dispatch(self, events: Iterable[LiveEvent]) -> None:
        for event in events:
            wake = self._wake.get(event.kind)
            if wake is not None:
                wake()
            reached: set[Subscription] = set()
            for key in event_keys(event):
                reached.update(self._index.get(key, ()))
            for subscription in reached:
                subscription.offer(event)

    def mark_all_lost(self) -> None:
        """Hints from other processes may have been missed: every stream re-reads."""
        for subscription in self._subscriptions:
            subscription.mark_lost()

    def _watch(self, subscription: Subscription, keys: set[Key]) -> None:
        for key in keys:
            self._index[key].add(subscription)
        subscription.keys |= keys

    def _unwatch(self, subscription: Subscription, keys: set[Key]) -> None:
        for key in keys:
            holders = self._index.get(key)
            if holders is not None:
                holders.discard(subscription)
                if not holders:
                    del self._index[key]
        subscription.keys -= keys
