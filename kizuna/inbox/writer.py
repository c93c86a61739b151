"""Group commit for the inbox: activities that arrive together are stored together.

Every request still waits for its own row to be committed before it is answered 202, so
nothing is acknowledged that is not durable; one transaction per batch instead of one per
request is what lets the inbox keep up with signature verification.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kizuna.storage import queue
from kizuna.storage.engine import Database

logger = logging.getLogger(__name__)

MAX_BATCH = 256


@dataclass(slots=True)
class _Pending:
    row: dict[str, object]
    done: asyncio.Future[bool]


class InboxWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None

    async def store(self, row: dict[str, object]) -> bool:
        """True when stored now, False when this activity id was already there."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(row=row, done=done))
        if self._task is None or self._task.done():
            # A task of its own: a request cancelled mid-write must not strand the others.
            self._task = asyncio.ensure_future(self._drain())
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            first: dict[object, _Pending] = {}
            for item in batch:
                first.setdefault(item.row["activity_id"], item)
            try:
                async with self.db.begin() as session:
                    stored = await queue.insert_inbox_batch(
                        session, [item.row for item in first.values()]
                    )
            except Exception as exc:
                logger.exception("storing %d inbox activities failed", len(batch))
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                continue
            for item in batch:
                if not item.done.done():
                    is_first = first[item.row["activity_id"]] is item
                    item.done.set_result(is_first and item.row["activity_id"] in stored)
