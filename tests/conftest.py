"""Shared fixtures: a migrated database per test on SQLite (always) and PostgreSQL (when set).

Migrations run once per session (per xdist worker) into a template (a SQLite file, a
PostgreSQL template database); each test gets a copy, so every test starts from the real
migrated schema. PostgreSQL copies are emptied after a test and handed to the next one.
"""

from __future__ import annotations

import asyncio
import functools
import graphlib
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from kizuna.app import http_session
from kizuna.config import Config
from kizuna.container import Services
from kizuna.keys import KeyPair, KeySource
from kizuna.passwords import hash_password
from kizuna.storage.engine import Database, make_engine, migrate
from tests.key_pool import PooledKeys, load_pool

PG_ENV = "KIZUNA_TEST_DATABASE_URL"
PG_SKIP_REASON = (
    f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
)
# The same scrypt code and hash format at n=16 instead of 2**15: microseconds, not ~0.1 s.
CHEAP_PASSWORDS = functools.partial(hash_password, n=16)
# Outside any --basetemp, which pytest empties at each start: the pool outlives runs.
KEY_POOL_FILE = Path(__file__).resolve().parent.parent / ".pytest-tmp" / "rsa2048-keys.json"


async def _migrate_url(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def _pg_admin_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _pg_url_for(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


async def _pg_execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate_url(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    name = f"kizuna_tmpl_{os.getpid()}"
    asyncio.run(_pg_execute(base, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
    asyncio.run(_migrate_url(_pg_url_for(base, name)))
    yield name
    asyncio.run(_pg_execute(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


class PgDatabases:
    """One process's PostgreSQL test databases, copies of its template. A test's copies are
    emptied afterwards (~10 ms) for the next test: CREATE and DROP DATABASE cost ~1 s each,
    every DROP forcing a checkpoint that stalls the disk for everyone, and TRUNCATE ~0.2 s."""

    def __init__(self, base: str, template: str, emptying: str) -> None:
        self.base = base
        self.template = template
        self.emptying = emptying
        self.free: list[str] = []
        self.made: list[str] = []

    async def take(self) -> str:
        if self.free:
            return self.free.pop()
        database = f"kizuna_t_{uuid.uuid4().hex[:12]}"
        await _pg_execute(self.base, f"CREATE DATABASE {database} TEMPLATE {self.template}")
        self.made.append(database)
        return database

    async def give_back(self, database: str) -> None:
        # Connections the test left open are ended first: they could hold locks.
        await _pg_execute(
            _pg_url_for(self.base, database),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            self.emptying,
        )
        self.free.append(database)


async def _pg_emptying(url: str) -> str:
    """SQL that returns a copy of the template at `url` to the template's state: no rows
    (it has none but alembic_version) and every sequence from its start. Tables are emptied
    referencing ones first, so no foreign key objects; no test changes the schema."""
    conn = await asyncpg.connect(_pg_admin_dsn(url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        references = await conn.fetch(
            "SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint "
            "JOIN pg_class child ON child.oid = conrelid "
            "JOIN pg_class parent ON parent.oid = confrelid WHERE contype = 'f'"
        )
    finally:
        await conn.close()
    children: dict[str, set[str]] = {row["tablename"]: set() for row in tables}
    for row in references:
        if row["child"] != row["parent"]:  # a self-reference goes with its table's DELETE
            children[row["parent"]].add(row["child"])
    order = graphlib.TopologicalSorter(children).static_order()
    deletes = "".join(f'DELETE FROM "{table}"; ' for table in order)
    return deletes + (
        "SELECT setval(format('%I', sequencename), start_value, false) "
        "FROM pg_sequences WHERE schemaname = 'public'"
    )


@pytest.fixture(scope="session")
def pg_databases(pg_template: str) -> Iterator[PgDatabases]:
    base = os.environ[PG_ENV]
    emptying = asyncio.run(_pg_emptying(_pg_url_for(base, pg_template)))
    databases = PgDatabases(base, pg_template, emptying)
    yield databases
    drops = [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in databases.made]
    asyncio.run(_pg_execute(base, *drops))


DatabaseFactory = Callable[[str], Awaitable[str]]
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        help="only the tests of one database backend (postgresql: only tests that use a "
        "database, so two runs side by side cover the suite once; see the Makefile)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = config.getoption("--backend")
    if backend is None:
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("database_factory") if callspec is not None else None
        wanted = param == backend if param is not None else backend == "sqlite"
        (keep if wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(params=["sqlite", "postgresql"])
def database_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseFactory]:
    """Makes fresh migrated databases on one backend: `factory(name) -> url`."""
    taken: list[str] = []
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")

        async def make_sqlite(name: str) -> str:
            path = tmp_path / f"{name}.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}"

        yield make_sqlite
        return
    databases: PgDatabases = request.getfixturevalue("pg_databases")

    async def make_pg(name: str) -> str:
        database = await databases.take()
        taken.append(database)
        return _pg_url_for(databases.base, database)

    yield make_pg
    for database in taken:
        asyncio.run(databases.give_back(database))


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> str:
    return await database_factory("kizuna")


@pytest.fixture(scope="session")
def key_pool() -> tuple[KeyPair, ...]:
    return load_pool(KEY_POOL_FILE)


@pytest.fixture
def keys(key_pool: tuple[KeyPair, ...]) -> KeySource:
    """This test's key source: pooled pairs, one per actor across all its instances."""
    return PooledKeys(key_pool)


@pytest.fixture
def config(database_url: str, tmp_path: Path, keys: KeySource) -> Config:
    return Config(
        domain="kizuna.test",
        public_url="http://kizuna.test",
        database_url=database_url,
        media_dir=tmp_path / "media",
        secret="test-secret-not-for-production",
        max_upload_bytes=64 * 1024,
        workers=False,  # tests run the queues themselves (Network.drain), never by timing
        key_source=keys,
        password_hasher=CHEAP_PASSWORDS,
    )


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    database = Database.from_url(config.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def services(config: Config, db: Database) -> AsyncIterator[Services]:
    async with http_session(config) as http:
        yield Services.build(config, db, http)


_REAL_GETADDRINFO = socket.getaddrinfo


def _loopback_only(host: object, *args: object, **kwargs: object) -> object:
    """Tests talk to 127.0.0.0/8 and ::1 only: a name lookup of anything else is a bug
    (a peer missing from the lab's host map), refused here before any packet leaves."""
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        loopback = ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = name == "localhost"
    if not loopback:
        raise OSError(f"tests may not resolve {name!r}: only loopback addresses")
    return _REAL_GETADDRINFO(host, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_outside_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)
