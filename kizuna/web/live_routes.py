"""Live pages over Server-Sent Events: /live/home, /live/c/{community}, /live/posts/{id},
/live/notifications.

A stream sends `ready` (its position), then a `post` event per new card (rendered as the page
renders it), `notification` counts, `gap` when more arrived than it sends at once, and a
heartbeat comment. Every post event's id is the reader's position: a reconnecting browser
sends it back as Last-Event-ID and misses nothing. A reader that stops reading holds one
bounded send buffer until a write has waited `live_write_timeout`; then the stream is cut.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.realtime import sse
from kizuna.server.context import current_user, services
from kizuna.server.rate_limits import client_ip
from kizuna.services.live import Batch, Stream
from kizuna.storage.engine import DatabaseError
from kizuna.storage.models import Post
from kizuna.web.community_routes import REF
from kizuna.web.context import csrf_key, jinja_key
from kizuna.web.live_limits import live_connections_key
from kizuna.web.middleware import SESSION_COOKIE

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

SEND_BUFFER = 64 * 1024  # kernel bytes per stream: a stalled reader cannot pin more
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass events on at once
}
MAX_BACKOFF = 10.0
MIN_READ_GAP = 0.01  # seconds between one stream's reads while posts keep coming

live_stop_key = web.AppKey("live_stop", asyncio.Event)
Render = Callable[[Post, Batch], str]


class _Gone(Exception):
    """The reader left, stalled past the write timeout, or the server is stopping."""


async def on_shutdown(app: web.Application) -> None:
    """Open streams end at once, not after the shutdown timeout: browsers reconnect."""
    app[live_stop_key].set()


def _resume(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("since")
    try:
        return sse.parse_event_id(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _renderer(request: web.Request, *, show_community: bool, wrap: bool) -> Render:
    """Cards as the page renders them for this viewer (each rendered once for all the
    pages it goes to: web.card_cache)."""
    template = request.app[jinja_key].get_template("_live_post.html")
    user = current_user(request)
    csrf_token = request.get(csrf_key, "")

    def render(post: Post, batch: Batch) -> str:
        return template.render(
            post=post,
            user=user,
            csrf_token=csrf_token,
            stats=batch.stats,
            reactions=batch.reactions,
            show_community=show_community,
            wrap=wrap,
        )

    return render


def _login_required(request: web.Request) -> None:
    if current_user(request) is None:
        raise web.HTTPUnauthorized(text="Log in to follow this page live.")


@routes.get("/live/home")
async def live_home(request: web.Request) -> web.StreamResponse:
    _login_required(request)
    user = current_user(request)
    assert user is not None
    resume = _resume(request)
    return await _serve(
        request,
        lambda: services(request).live.home(user.account, resume),
        _renderer(request, show_community=True, wrap=False),
    )


@routes.get(f"/live/c/{REF}")
async def live_community(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    user = current_user(request)
    resume = _resume(request)
    group = await svc.communities.group(request.match_info["ref"])

    async def open_stream() -> Stream:
        return svc.live.community(group.id, user.account if user else None, resume)

    return await _serve(request, open_stream, _renderer(request, show_community=False, wrap=True))


@routes.get("/live/posts/{post_id:[0-9]{1,19}}")
async def live_thread(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    user = current_user(request)
    viewer = user.account if user else None
    resume = _resume(request)
    post = await svc.posts.get_visible(int(request.match_info["post_id"]), viewer)
    return await _serve(
        request,
        lambda: svc.live.thread(post, viewer, resume),
        _renderer(request, show_community=True, wrap=False),
    )


@routes.get("/live/notifications")
async def live_notifications(request: web.Request) -> web.StreamResponse:
    _login_required(request)
    user = current_user(request)
    assert user is not None

    async def open_stream() -> Stream:
        return services(request).live.notifications(user.account)

    return await _serve(request, open_stream, _renderer(request, show_community=True, wrap=False))


def _session_check(request: web.Request) -> Callable[[], Awaitable[bool]] | None:
    """For a logged-in reader: is the log-in still good? A stream outliving its session (a
    log-out elsewhere, a suspension) would go on showing followers-only posts."""
    token = request.cookies.get(SESSION_COOKIE)
    if current_user(request) is None or token is None:
        return None
    accounts = services(request).accounts

    async def still_logged_in() -> bool:
        try:
            return await accounts.user_for_session(token) is not None
        except (DatabaseError, OSError):
            return True  # the database is away for a moment: not a reason to cut the reader

    return still_logged_in


async def _serve(
    request: web.Request, open_stream: Callable[[], Awaitable[Stream]], render: Render
) -> web.StreamResponse:
    config = services(request).config
    ip = client_ip(request, trusted_proxy=config.trusted_proxy)
    connections = request.app[live_connections_key]
    refusal = connections.refusal(ip)
    if refusal is not None:
        return refusal
    with connections.hold(ip):
        stream = await open_stream()
        response = web.StreamResponse(headers=HEADERS)
        try:
            await response.prepare(request)
            _bound_send_buffer(request)
            writer = _Writer(request, response, config.live_write_timeout)
            await writer.send(
                sse.retry()
                + sse.event("ready", {"cursor": str(stream.cursor)}, event_id=stream.cursor)
            )
            await _pump(stream, writer, render, config.live_heartbeat, _session_check(request))
        except _Gone:
            if request.transport is not None:
                request.transport.abort()  # never wait on a stalled reader to say goodbye
        finally:
            stream.close()
    return response


async def _pump(
    stream: Stream,
    writer: _Writer,
    render: Render,
    heartbeat: float,
    logged_in: Callable[[], Awaitable[bool]] | None,
) -> None:
    """Until the reader leaves, the server stops or (at a heartbeat) the log-in has ended:
    the stream then ends, and the browser's reconnect is answered 401."""
    failures = 0
    last_read = -MIN_READ_GAP
    loop = asyncio.get_running_loop()
    while True:
        if not stream.ready:
            if not await writer.wait_for(stream.wait(), heartbeat):
                if logged_in is not None and not await logged_in():
                    return
                await writer.send(sse.comment("ping"))
                continue
        # The first post after a quiet spell goes out at once; in a burst, one read per
        # MIN_READ_GAP takes everything that came meanwhile (a thousand open pages then cost
        # the database a bounded number of reads, not one per page per post).
        since = loop.time() - last_read
        if since < MIN_READ_GAP:
            await writer.pause(MIN_READ_GAP - since)
        last_read = loop.time()
        before = stream.cursor
        try:
            batch = await stream.read()
        except (DatabaseError, OSError) as exc:
            # The database is away for a moment: keep the reader, retry the whole read.
            failures += 1
            logger.warning("live stream: read failed (%s); retrying", exc)
            await writer.send(sse.comment("waiting for the database"))
            await writer.pause(min(0.25 * 2**failures, MAX_BACKOFF))
            continue
        failures = 0
        chunk = _encode(batch, before, render)
        if chunk:
            await writer.send(chunk)


def _encode(batch: Batch, before: int, render: Render) -> bytes:
    parts: list[bytes] = []
    position = before
    for post in batch.posts:
        position = max(position, post.id)
        data = {"id": str(post.id), "uri": post.uri, "html": render(post, batch)}
        parts.append(sse.event("post", data, event_id=position))
    if batch.gap:
        parts.append(sse.event("gap", {"reload": True}))
    if batch.notifications:
        parts.append(sse.event("notification", {"count": len(batch.notifications)}))
    return b"".join(parts)


class _Writer:
    def __init__(self, request: web.Request, response: web.StreamResponse, timeout: float):
        self.response = response
        self.timeout = timeout
        self.stop = request.app[live_stop_key]

    async def send(self, data: bytes) -> None:
        if self.stop.is_set():
            raise _Gone()
        try:
            await asyncio.wait_for(self.response.write(data), self.timeout)
        except (TimeoutError, ConnectionError) as exc:
            raise _Gone() from exc

    async def pause(self, seconds: float) -> None:
        """Sleep `seconds`; raises _Gone when the server is stopping meanwhile."""
        await self.wait_for(self.stop.wait(), seconds)

    async def wait_for(self, waiting: Awaitable[object], seconds: float) -> bool:
        """True when `waiting` finished within `seconds`; raises _Gone when stopping."""
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self.stop.wait())
        try:
            done, _ = await asyncio.wait(
                {task, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            task.cancel()
            stop.cancel()
        if stop in done:
            raise _Gone()
        return task in done


def _bound_send_buffer(request: web.Request) -> None:
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
