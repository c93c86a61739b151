"""Hints across processes that share a PostgreSQL database: LISTEN/NOTIFY on one channel.

Every `kizuna serve` and `kizuna worker` process keeps one dedicated connection: it LISTENs
for the others' hints and NOTIFYs its own (after its commit, so a hint never arrives before
the rows it points to). Losing that connection loses hints, never data: on reconnect every
open stream re-reads from the database, and workers poll anyway (kizuna/background.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from kizuna.realtime.broker import Broker
from kizuna.realtime.events import LiveEvent, decode_batch, encode_batch

logger = logging.getLogger(__name__)

CHANNEL = "kizuna_live"
KEEPALIVE_SECONDS = 5.0
CONNECT_TIMEOUT = 5.0
MAX_BACKLOG = 10_000  # batches waiting for the connection; past this, the oldest are dropped
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


def asyncpg_dsn(database_url: str) -> str:
    """postgresql+asyncpg://… (SQLAlchemy) as the postgresql://… asyncpg connects to."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgBridge:
    def __init__(self, database_url: str, broker: Broker) -> None:
        """`broker`: where the other processes' hints go (this process's streams and workers
        only; the hub sends ours through `send`)."""
        self.dsn = asyncpg_dsn(database_url)
        self.broker = broker
        self._backlog: asyncio.Queue[list[LiveEvent]] = asyncio.Queue()
        self._server_pid: int | None = None
        self.connected = asyncio.Event()
        self.received = 0
        self.sent = 0

    def send(self, events: list[LiveEvent]) -> None:
        if self._backlog.qsize() >= MAX_BACKLOG:
            self._backlog.get_nowait()  # other processes' streams re-read on their next hint
        self._backlog.put_nowait(events)

    def _on_notify(self, _conn: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self._server_pid:
            return  # our own hint, dispatched locally already
        self.received += 1
        self.broker.dispatch(decode_batch(payload))

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        first = True
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                logger.warning("live hints: cannot reach PostgreSQL (%s); retry in %ss", exc, delay)
                await _sleep_or_stop(stop, delay)
                continue
            attempt = 0
            try:
                self._server_pid = conn.get_server_pid()
                await conn.add_listener(CHANNEL, self._on_notify)
                if not first:
                    # Hints sent while we were away are gone: every stream re-reads.
                    self.broker.mark_all_lost()
                first = False
                self.connected.set()
                await self._pump(conn, stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                logger.warning("live hints: connection lost (%s); reconnecting", exc)
            finally:
                self.connected.clear()
                await _close(conn)

    async def _pump(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                getting = asyncio.ensure_future(self._backlog.get())
                done, _ = await asyncio.wait(
                    {getting, stopping},
                    timeout=KEEPALIVE_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if getting not in done:
                    getting.cancel()
                    if not stop.is_set():
                        await conn.execute("SELECT 1")  # notices a dead connection when idle
                    continue
                events = getting.result()
                while not self._backlog.empty() and len(events) < 500:
                    events.extend(self._backlog.get_nowait())
                try:
                    payloads = encode_batch(events)
                    await conn.execute(
                        "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", CHANNEL, payloads
                    )
                    self.sent += len(payloads)
                except BaseException:
                    self._backlog.put_nowait(events)  # sent after the reconnect
                    raise
        finally:
            stopping.cancel()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        conn.terminate()
