"""Security middlewares: sessions, CSRF (signed double-submit cookie), headers, error pages."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.errors import KizunaError
from kizuna.server.context import services, user_key
from kizuna.server.errors import http_error_message, http_status, is_plain_http_error
from kizuna.web.context import csrf_key, secret_key
from kizuna.web.render import render

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "kizuna_session"
CSRF_COOKIE = "kizuna_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Server-to-server endpoints (the inboxes) authenticate by HTTP signature, not by cookie.
# Only inboxes: /c/SLUG/... also holds the community pages' own forms.
CSRF_EXEMPT_PREFIXES = ("/inbox", "/users/", "/c/", "/actor/")
# Mastodon's client API (for apps holding an OAuth bearer token), not forms.
CLIENT_API_PREFIXES = ("/api/v1/", "/api/v2/", "/oauth/")

CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def csrf_token_for(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Web pages' errors as the error page (the JSON faces' are answered inside this, by
    kizuna.server.errors.json_error_middleware), and the log line and 500 page for anything
    unhandled."""
    try:
        return await handler(request)
    except KizunaError as exc:
        return render(request, "error.html", {"message": str(exc)}, status=http_status(exc))
    except web.HTTPException as exc:
        if not is_plain_http_error(exc):
            raise
        message = http_error_message(exc)
        return render(request, "error.html", {"message": message}, status=exc.status)
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return render(request, "error.html", {"message": "Something went wrong."}, status=500)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    await services(request).custom_emoji.refresh_if_stale()  # for drawing names
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        user = await services(request).accounts.user_for_session(token)
        if user is not None:
            request[user_key] = user
    return await handler(request)


def _is_inbox(path: str) -> bool:
    return path.startswith(CSRF_EXEMPT_PREFIXES) and path.endswith("/inbox")


def _needs_csrf_token(request: web.Request) -> bool:
    """Decided per route: a matched route that changes state, unless nothing a browser sends
    by itself (the session cookie) authenticates it. Log-in and sign-up forms count (a
    forged log-in is an attack too); an unmatched path or method gets its own 404/405,
    as Mastodon-API clients probing /api/v1/… expect."""
    if request.method not in UNSAFE_METHODS:
        return False
    if request.match_info.http_exception is not None:
        return False  # no such route: nothing to protect
    if _is_inbox(request.path):
        return False  # server-to-server: signed, and never gets a cookie
    # The client API authenticates by bearer token; with our session cookie it is a form.
    return not request.path.startswith(CLIENT_API_PREFIXES) or SESSION_COOKIE in request.cookies


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_inbox(request.path) and request.method != "GET":
        return await handler(request)  # no cookie to hand out either
    secret = request.app[secret_key]
    cookie = request.cookies.get(CSRF_COOKIE)
    new_cookie = None
    if not cookie or len(cookie) > 100:
        cookie = new_cookie = secrets.token_urlsafe(32)
    expected = csrf_token_for(secret, cookie)
    request[csrf_key] = expected
    if _needs_csrf_token(request):
        sent = request.headers.get("X-CSRF-Token")
        if sent is None:
            form = await request.post()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else ""
        if new_cookie is not None or not hmac.compare_digest(sent, expected):
            raise web.HTTPForbidden(
                text="This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            )
    response = await handler(request)
    if new_cookie is not None:
        response.set_cookie(
            CSRF_COOKIE,
            new_cookie,
            httponly=True,
            samesite="Lax",
            secure=services(request).config.secure_cookies,
            path="/",
        )
    return response


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
    return response
