"""Server-Sent Events framing (the WHATWG HTML "event stream" format). Pure."""

from __future__ import annotations

import json

from kizuna.activitypub.vocab import JsonObject

# Browsers reconnect after this many ms (with Last-Event-ID) when a stream ends.
RETRY_MS = 3000


def event(name: str, data: JsonObject, *, event_id: int | None = None) -> bytes:
    # json.dumps escapes newlines, so the data is one `data:` line.
    lines = [
        f"event: {name}",
        "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")),
    ]
    if event_id is not None:
        lines.insert(0, f"id: {event_id}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def comment(text: str) -> bytes:
    """A line readers ignore: the heartbeat that keeps proxies and dead peers honest."""
    return f": {text}\n\n".encode()


def retry(ms: int = RETRY_MS) -> bytes:
    return f"retry: {ms}\n\n".encode()


def parse_event_id(raw: str | None) -> int | None:
    """A Last-Event-ID we issued (a post id: 1 to 19 digits); None when absent or empty.
    Anything else raises ValueError."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise ValueError("Last-Event-ID must be the id of an event this server sent (digits)")
    number = int(value)
    if number >= 2**63:
        raise ValueError("Last-Event-ID is out of range")
    return number
