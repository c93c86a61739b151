"""Several real Kizuna instances on loopback, federating through a shared host map.

Each instance is a full app (its own database, HTTP server on 127.0.0.1:random) reached by
the others as https://DOMAIN through Config.federation_hosts, exactly as `kizuna lab` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.typedefs import Handler

from kizuna.app import create_app
from kizuna.config import Config
from kizuna.container import Services
from kizuna.keys import KeySource
from kizuna.server.connections import connection_guard_key, guard_connections
from kizuna.server.context import services_key
from tests.conftest import CHEAP_PASSWORDS, DatabaseFactory
from tests.integration.web import Client


@dataclass
class Instance:
    domain: str
    server: TestServer
    browser: Client
    requests: list[str] = field(default_factory=list)  # every path asked of it, in order

    @property
    def services(self) -> Services:
        return self.server.app[services_key]

    @property
    def port(self) -> int:
        port = self.server.port
        assert port is not None
        return port


@dataclass
class Network:
    database_factory: DatabaseFactory
    workdir: Path
    keys: KeySource  # shared by every instance: no two actors in the lab have one key
    host_map: dict[str, tuple[str, int]] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)

    def config(self, domain: str, database_url: str, **overrides: object) -> Config:
        values: dict[str, object] = {
            "domain": domain,
            "database_url": database_url,
            "media_dir": self.workdir / domain / "media",
            "secret": f"secret-of-{domain}",
            "federation_hosts": self.host_map,  # shared: later instances become reachable
            "allow_private_addresses": True,
            "fetch_timeout": 5.0,
            "workers": False,
            "key_source": self.keys,
            "password_hasher": CHEAP_PASSWORDS,
            **overrides,
        }
        return Config(**values)  # type: ignore[arg-type]

    async def start(self, domain: str, **overrides: object) -> Instance:
        config = self.config(domain, await self.database_factory(domain), **overrides)
        return await self.serve(domain, create_app(config))

    async def serve(self, domain: str, app: web.Application) -> Instance:
        """Any app (a real instance or a fake peer) reachable as https://DOMAIN."""
        seen: list[str] = []

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            seen.append(request.path)
            response: web.StreamResponse = await handler(request)
            return response

        app.middlewares.insert(0, record)
        server = TestServer(app, host="127.0.0.1")
        browser: Client = TestClient(server)
        await browser.start_server()
        if connection_guard_key in app:  # a real instance: its idle-connection limit too
            assert isinstance(server.runner, web.AppRunner)
            guard_connections(server.runner)
        instance = Instance(domain=domain, server=server, browser=browser, requests=seen)
        self.host_map[domain] = ("127.0.0.1", instance.port)
        self.instances.append(instance)
        return instance

    async def drain(self, rounds: int = 50) -> None:
        """Run every instance's delivery and inbox queues until nothing is due: no sleeps."""
        for _ in range(rounds):
            busy = 0
            for instance in self.instances:
                if services_key not in instance.server.app:
                    continue  # a fake peer
                busy += await instance.services.delivery.run_single_cycle()
                busy += await instance.services.processor.run_single_cycle()
            if not busy:
                return
        raise AssertionError(f"queues still busy after {rounds} rounds")

    async def close(self) -> None:
        for instance in reversed(self.instances):
            await instance.browser.close()
