"""How many live streams one address, and the whole process, may hold open.

A browser tab holds one; a script opening thousands from one address gets a 429 with
Retry-After instead of the process's memory and file descriptors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

RETRY_AFTER_SECONDS = 30


class LiveConnections:
    def __init__(self, *, per_ip: int, total: int) -> None:
        self.per_ip = per_ip
        self.total = total
        self._by_ip: Counter[str] = Counter()
        self._open = 0

    @property
    def open(self) -> int:
        return self._open

    def refusal(self, ip: str) -> web.Response | None:
        """The answer when `ip` (or the process) holds all it may; None when there is room.
        Plain text: EventSource shows nobody an HTML page."""
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if self._by_ip[ip] >= self.per_ip:
            return web.Response(
                status=429,
                headers=retry,
                text=f"Too many live connections from your address (at most {self.per_ip} "
                "at once). Close some tabs or try again later.",
            )
        if self._open >= self.total:
            return web.Response(
                status=503,
                headers=retry,
                text="This server holds as many live connections as it can. Try again later.",
            )
        return None

    @contextmanager
    def hold(self, ip: str) -> Iterator[None]:
        self._by_ip[ip] += 1
        self._open += 1
        try:
            yield
        finally:
            self._open -= 1
            self._by_ip[ip] -= 1
            if self._by_ip[ip] <= 0:
                del self._by_ip[ip]


live_connections_key = web.AppKey("live_connections", LiveConnections)
