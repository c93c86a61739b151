from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from kizuna.app import create_app
from kizuna.config import Config
from kizuna.keys import KeySource
from kizuna.server.connections import guard_connections
from kizuna.storage.engine import Database
from tests.conftest import DatabaseFactory
from tests.integration.lab import Network
from tests.integration.web import Client

ClientFactory = Callable[[], Awaitable[Client]]


@pytest.fixture
async def make_client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], config: Config, db: Database
) -> AsyncIterator[ClientFactory]:
    """Each call is a separate browser (own cookie jar) on the same running instance."""
    app = create_app(config, db=db)
    extra: list[Client] = []
    first: list[Client] = []

    async def factory() -> Client:
        if not first:
            first.append(await aiohttp_client(app))
            assert isinstance(first[0].server.runner, web.AppRunner)
            guard_connections(first[0].server.runner)
            return first[0]
        client: Client = TestClient(first[0].server)  # type: ignore[assignment]  # same server
        await client.start_server()  # the server is running already: only opens a session
        extra.append(client)
        return client

    yield factory
    for client in extra:
        await client.session.close()
    if first:
        # Shut the app down (its cleanup may still write, e.g. inbox counts) while `db` is
        # open: fixtures are torn down in reverse, so `db` would otherwise be disposed first
        # and the late write would open a connection nobody closes.
        await first[0].close()


@pytest.fixture
async def network(
    database_factory: DatabaseFactory, tmp_path: Path, keys: KeySource
) -> AsyncIterator[Network]:
    lab = Network(database_factory, tmp_path, keys)
    yield lab
    await lab.close()
