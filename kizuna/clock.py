"""The one clock: aware UTC datetimes. Code that needs time takes a `clock` argument that
defaults to this, so tests can move time without patching."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
