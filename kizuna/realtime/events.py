"""What a commit tells live pages and workers: small, JSON-encodable hints.

An event is a hint, never the data: a stream that wakes on one reads what it shows from the
database, with the viewer's own visibility, block and mute rules. A lost or duplicated hint
costs latency, never a wrong or missing post (a reconnect catches up from the database).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from kizuna.activitypub import jsonload
from kizuna.activitypub.errors import InvalidJsonError

# post: a new post row; notification: a new notification for `account_id`; follow: the
# follows of `account_id` changed (a home stream reloads whom it follows); delivery/inbox:
# queue rows to work on.
Kind = Literal["post", "notification", "follow", "delivery", "inbox"]
KINDS: frozenset[str] = frozenset({"post", "notification", "follow", "delivery", "inbox"})

# PostgreSQL NOTIFY payloads must stay under 8000 bytes; a batch is split below this.
MAX_PAYLOAD = 7000


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveEvent:
    kind: Kind
    id: int = 0  # the post's or notification's id
    account_id: int = 0  # the author, the notified account, or the follower
    community_id: int | None = None
    in_reply_to_id: int | None = None
    reblog_of_id: int | None = None


def encode_batch(events: list[LiveEvent]) -> list[str]:
    """NOTIFY payloads, each a JSON array of compact events under MAX_PAYLOAD bytes."""
    payloads: list[str] = []
    chunk: list[str] = []
    size = 2
    for event in events:
        item = json.dumps(
            {k: v for k, v in asdict(event).items() if v not in (None, 0)}, separators=(",", ":")
        )
        if chunk and size + len(item) + 1 > MAX_PAYLOAD:
            payloads.append("[" + ",".join(chunk) + "]")
            chunk, size = [], 2
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        payloads.append("[" + ",".join(chunk) + "]")
    return payloads


def decode_batch(payload: str) -> list[LiveEvent]:
    """Events from another process; anything malformed is skipped, never raised."""
    try:
        items = jsonload.loads(payload)
    except InvalidJsonError:
        return []
    if not isinstance(items, list):
        return []
    events: list[LiveEvent] = []
    for item in items:
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            continue
        try:
            events.append(
                LiveEvent(
                    kind=item["kind"],
                    id=_int(item.get("id", 0)),
                    account_id=_int(item.get("account_id", 0)),
                    community_id=_opt_int(item.get("community_id")),
                    in_reply_to_id=_opt_int(item.get("in_reply_to_id")),
                    reblog_of_id=_opt_int(item.get("reblog_of_id")),
                )
            )
        except (TypeError, ValueError):
            continue
    return events


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)
