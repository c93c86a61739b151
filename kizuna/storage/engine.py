"""Engine, sessions and migrations. SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm import SessionTransaction, UOWTransaction

from kizuna.errors import ConfigError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_TOUCHED = "kizuna.touched"

Session = AsyncSession
# What a caller outside storage/ catches to report a database failure in one line.
DatabaseError = SQLAlchemyError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
        raise ConfigError(
            "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if url.startswith("sqlite"):
        # One writer at a time anyway; each connection is a thread with its own page cache,
        # so more of them cost memory and GIL contention, not throughput.
        engine = create_async_engine(url, pool_size=5, max_overflow=5)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


CommitListener = Callable[[Sequence[object]], None]


def announce(session: AsyncSession, thing: object) -> None:
    """Tell the commit listeners about `thing` too when this transaction commits: what they
    cannot see among the objects it added or changed (rows written by core statements)."""
    session.sync_session.info.setdefault(_TOUCHED, []).append(thing)


class Database:
    """One engine and its session factory; `async with db.begin() as session` per request/job."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # A session class of its own: commit listeners stay with this Database.
        sync_class = type("KizunaSession", (SyncSession,), {})
        self.sessions = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=sync_class
        )
        self._listeners: list[CommitListener] = []
        event.listen(sync_class, "after_flush", self._remember)
        event.listen(sync_class, "after_commit", self._committed)
        event.listen(sync_class, "after_transaction_end", self._forget)

    def on_commit(self, listener: CommitListener) -> Callable[[], None]:
        """Call `listener` with the objects a transaction added or changed, once it has
        committed (live pages and queue wake-ups); returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _remember(self, session: SyncSession, _flush: UOWTransaction) -> None:
        if self._listeners:
            touched = session.info.setdefault(_TOUCHED, [])
            touched.extend(session.new)
            touched.extend(session.dirty)

    def _committed(self, session: SyncSession) -> None:
        # after_commit fires when a savepoint is released too, while the outer transaction
        # may still roll back and others cannot see its rows yet: only the outermost counts.
        if session.in_nested_transaction():
            return
        touched = session.info.pop(_TOUCHED, None)
        if not touched:
            return
        for listener in list(self._listeners):
            try:
                listener(touched)
            except Exception:  # a listener must never fail a commit that has happened
                logger.exception("commit listener failed")

    def _forget(self, session: SyncSession, transaction: SessionTransaction) -> None:
        # Only when the outermost transaction ends (rolled back, or committed and told
        # already): a savepoint rolled back inside it must not drop the others' objects.
        if transaction.parent is None:
            session.info.pop(_TOUCHED, None)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions.begin() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _alembic_config(connection: Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrades the schema to `revision`; the revisions before and after (None: no schema)."""

    def upgrade(conn: Connection) -> tuple[str | None, str | None]:
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(_alembic_config(conn), revision)
        return before, MigrationContext.configure(conn).get_current_revision()

    async with engine.begin() as conn:
        return await conn.run_sync(upgrade)


async def pending_migrations(engine: AsyncEngine) -> bool:
    def check(conn: Connection) -> bool:
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
        return MigrationContext.configure(conn).get_current_revision() != head

    async with engine.connect() as conn:
        return await conn.run_sync(check)
