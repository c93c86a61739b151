"""Application factory: synchronous, handed everything, reads nothing at import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import aiohttp
from aiohttp import web

from kizuna.actors import routes as actor_routes
from kizuna.api import timelines as api_timelines
from kizuna.config import Config
from kizuna.container import Services
from kizuna.federation.addresses import PublicOnlyResolver
from kizuna.inbox import routes as inbox_routes
from kizuna.server.connections import ConnectionGuard, connection_guard_key, connection_middleware
from kizuna.server.context import services_key
from kizuna.server.errors import json_error_middleware
from kizuna.server.rate_limits import RateLimits, rate_limits_key
from kizuna.storage.engine import Database
from kizuna.web import (
    account_admin_routes,
    admin_routes,
    auth_routes,
    block_routes,
    community_routes,
    domain_routes,
    emoji_routes,
    federation_routes,
    live_routes,
    media_routes,
    post_routes,
    profile_routes,
    reaction_routes,
    report_routes,
    search_routes,
    timeline_routes,
)
from kizuna.web.context import jinja_key, secret_key
from kizuna.web.live_limits import LiveConnections, live_connections_key
from kizuna.web.live_routes import live_stop_key
from kizuna.web.middleware import (
    csrf_middleware,
    error_middleware,
    headers_middleware,
    session_middleware,
)
from kizuna.web.render import STATIC_DIR, make_environment
from kizuna.web.uploads import upload_middleware
from kizuna.webfinger import routes as webfinger_routes

FORM_OVERHEAD = 64 * 1024


def create_app(config: Config, *, db: Database | None = None) -> web.Application:
    app = web.Application(
        # The session is read before the CSRF check reads the form, so that every error page
        # (a form expired, an upload too large) still shows who is logged in; the connection
        # guard's body deadline is in place before anything reads a body.
        middlewares=[
            headers_middleware,
            error_middleware,
            json_error_middleware,
            connection_middleware,
            session_middleware,
            upload_middleware,
            csrf_middleware,
        ],
        client_max_size=config.max_upload_bytes + FORM_OVERHEAD,
        # aiohttp's keep-alive timer also closes a connection whose request head is late.
        handler_args={"keepalive_timeout": config.header_timeout},
    )
    app[connection_guard_key] = ConnectionGuard(
        idle_per_ip=0 if config.trusted_proxy else config.idle_connections_per_ip,
        body_timeout=config.body_timeout,
    )
    app[jinja_key] = make_environment()
    app[rate_limits_key] = RateLimits(config)
    app[live_connections_key] = LiveConnections(
        per_ip=config.live_per_ip, total=config.live_connections
    )
    app[live_stop_key] = asyncio.Event()
    app.on_shutdown.append(live_routes.on_shutdown)
    app.cleanup_ctx.append(partial(services_ctx, config=config, db=db))
    for feature in (
        webfinger_routes,
        inbox_routes,
        actor_routes,
        search_routes,
        auth_routes,
        timeline_routes,
        api_timelines,
        post_routes,
        reaction_routes,
        profile_routes,
        block_routes,
        community_routes,
        admin_routes,
        domain_routes,
        report_routes,
        account_admin_routes,
        emoji_routes,
        federation_routes,
        live_routes,
        media_routes,
    ):
        app.add_routes(feature.routes)
    app.router.add_static("/static", str(STATIC_DIR), append_version=False)
    return app


def http_session(config: Config) -> aiohttp.ClientSession:
    resolver = PublicOnlyResolver(allow_private=config.allow_private_addresses)
    connector = aiohttp.TCPConnector(resolver=resolver, limit_per_host=8, ttl_dns_cache=300)
    return aiohttp.ClientSession(connector=connector, raise_for_status=False)


async def services_ctx(
    app: web.Application, *, config: Config, db: Database | None
) -> AsyncIterator[None]:
    owned = db is None
    database = Database.from_url(config.database_url) if db is None else db
    async with http_session(config) as http:
        services = Services.build(config, database, http)
        app[services_key] = services
        app[secret_key] = config.secret or await services.settings.secret()
        await services.start()
        stop = asyncio.Event()
        live = asyncio.ensure_future(services.run_live(stop))
        workers = asyncio.ensure_future(services.run_workers(stop)) if config.workers else None
        # Inbox rejection counts are kept where the inbox runs: flushed every few seconds
        # and once more on the way out.
        accounting = asyncio.ensure_future(services.inbox_accounting.run_forever(stop))
        yield
        stop.set()
        if workers is not None:
            await workers
        await accounting
        await live
    if owned:
        await database.dispose()
