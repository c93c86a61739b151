"""Bounds on what one client connection may hold: against slowloris and its kin.

Three limits, so that trickling bytes or opening connections cannot tie a process up:

- Request heads: a connection that has not sent a complete request line and headers within
  `header_timeout` of opening, or of the end of its previous response, is closed. aiohttp's
  keep-alive timer does exactly this (armed when a connection opens and after each response,
  it closes a connection still waiting for a request head, however many bytes of it arrived),
  so `create_app` sets it through `handler_args`, which every runner uses.
- Request bodies: a body not complete within `body_timeout` of its head makes the handler's
  next read fail; the answer is 408 and the connection is closed.
- Idle connections: one client address may keep `idle_per_ip` connections without a
  request in progress; past that, those idle longest are closed. A connection counts only
  once idle for `IDLE_GRACE` seconds, so a burst of connections that each send a request at
  once (a server delivering many activities) is never cut. Live streams are requests in
  progress, limited by `LiveConnections` instead.

nginx's client_header_timeout and client_body_timeout (60 s each) are the model; its body
timeout is between two reads, ours is for the whole body, which also bounds a trickle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.server.rate_limits import address_key

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

IDLE_GRACE = 1.0


class BodyTimeoutError(TimeoutError):
    """Set on a request body that did not arrive in time. A TimeoutError, so that aiohttp,
    draining what is left of the body after the answer, closes the connection quietly."""


class ConnectionGuard:
    def __init__(self, *, idle_per_ip: int, body_timeout: float, grace: float = IDLE_GRACE) -> None:
        self.idle_per_ip = idle_per_ip  # 0: no limit
        self.body_timeout = body_timeout
        self.grace = grace
        self._client: dict[web.RequestHandler, str] = {}
        # Per client, its connections without a request in progress, longest idle first.
        self._idle: dict[str, dict[web.RequestHandler, float]] = {}
        self._trims: dict[str, asyncio.TimerHandle] = {}

    def watch(self, server: web.Server) -> None:
        """Follow the connections of `server` (a runner's, once set up)."""
        if not self.idle_per_ip:
            return
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: web.RequestHandler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            peer = transport.get_extra_info("peername")
            address = peer[0] if isinstance(peer, tuple) and peer else str(peer)
            self._client[handler] = address_key(address)
            self._became_idle(handler)

        def connection_lost(handler: web.RequestHandler, exc: BaseException | None = None) -> None:
            client = self._client.pop(handler, None)
            if client is not None:
                self._forget_idle(client, handler)
            lost(handler, exc)

        # web.Server calls these two for every connection; aiohttp has no other hook that
        # sees a connection before its first request.
        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def request_started(self, handler: web.RequestHandler | None) -> None:
        client = self._client.get(handler) if handler is not None else None
        if client is not None:
            self._forget_idle(client, handler)

    def request_finished(self, handler: web.RequestHandler | None) -> None:
        if handler is not None and handler in self._client:
            self._became_idle(handler)

    def _forget_idle(self, client: str, handler: web.RequestHandler | None) -> None:
        idle = self._idle.get(client)
        if idle is not None:
            idle.pop(handler, None)  # type: ignore[arg-type]
            if not idle:
                del self._idle[client]

    def _became_idle(self, handler: web.RequestHandler) -> None:
        client = self._client[handler]
        loop = asyncio.get_running_loop()
        idle = self._idle.setdefault(client, {})
        idle.pop(handler, None)
        idle[handler] = loop.time()
        if len(idle) > self.idle_per_ip and client not in self._trims:
            self._trims[client] = loop.call_at(loop.time() + self.grace, self._trim, client)

    def _trim(self, client: str) -> None:
        """Close the client's longest-idle connections down to the limit, each once it has
        been idle for the grace period."""
        del self._trims[client]
        idle = self._idle.get(client, {})
        loop = asyncio.get_running_loop()
        closed = 0
        while len(idle) > self.idle_per_ip:
            handler, since = next(iter(idle.items()))
            if loop.time() - since < self.grace:
                self._trims[client] = loop.call_at(since + self.grace, self._trim, client)
                break
            del idle[handler]
            handler.force_close()
            closed += 1
        if closed:  # one line per client and grace period, however many were closed
            logger.info(
                "closed %d idle connection(s) from %s (limit %d)", closed, client, self.idle_per_ip
            )
        if not idle:
            self._idle.pop(client, None)

    def body_deadline(self, request: web.Request) -> asyncio.TimerHandle | None:
        """Arms the body timeout of `request`, if it has a body still to come."""
        body = request.content
        if not request.body_exists or body.is_eof():
            return None
        seconds = self.body_timeout

        def expire() -> None:
            if not body.is_eof():
                body.set_exception(BodyTimeoutError(f"no complete body within {seconds:g} s"))

        return asyncio.get_running_loop().call_later(seconds, expire)


connection_guard_key = web.AppKey("connection_guard", ConnectionGuard)


def guard_connections(runner: web.AppRunner) -> None:
    """Puts the app's idle-connection limit on a runner's server (after `runner.setup()`)."""
    server = runner.server
    if server is None:
        raise RuntimeError("guard_connections needs a runner that is set up")
    runner.app[connection_guard_key].watch(server)


@web.middleware
async def connection_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Marks the connection busy while its request is handled; times its body."""
    guard = request.app[connection_guard_key]
    protocol = request.protocol
    guard.request_started(protocol)
    deadline = guard.body_deadline(request)
    try:
        return await handler(request)
    except BodyTimeoutError:
        raise web.HTTPRequestTimeout(
            text=f"The request body did not arrive within {guard.body_timeout:g} seconds."
        ) from None
    finally:
        if deadline is not None:
            deadline.cancel()
        guard.request_finished(protocol)
