"""Security middlewares: sessions, CSRF (signed double-submit cookie), headers, error pages."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.activitypub.errors import ApError
from kizuna.errors import KizunaError
from kizuna.server.context import services, user_key
from kizuna.server.json import json_response
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

JSON_PREFIXES = ("/.well-known/", "/nodeinfo/", "/actor", "/inbox", "/api/")

CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def csrf_token_for(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (KizunaError, ApError) as exc:
        if not wants_html(request):
            return json_response({"error": str(exc)}, status=exc.status)
        return render(request, "error.html", {"message": str(exc)}, status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type != "text/plain":
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
        if exc.status == 413:
            message = "That upload is too large."
        if not wants_html(request):
            return json_response({"error": message or exc.reason}, status=exc.status)
        return render(request, "error.html", {"message": message or exc.reason}, status=exc.status)
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return render(request, "error.html", {"message": "Something went wrong."}, status=500)


def wants_html(request: web.Request) -> bool:
    if request.path.startswith(JSON_PREFIXES) or request.path.endswith("/inbox"):
        return False
    accept = request.headers.get("Accept", "")
    return "json" not in accept or "text/html" in accept


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
