"""Errors to HTTP: the one table of statuses, and the JSON faces' error middleware (web pages
get theirs from kizuna.web.middleware)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.activitypub.errors import InvalidActivityError, ProtocolError, SignatureError
from kizuna.errors import (
    ConflictError,
    KizunaError,
    NotFoundError,
    PermissionDeniedError,
    UploadTooLargeError,
    ValidationError,
)
from kizuna.federation.errors import (
    DomainPolicyFetchError,
    FetchError,
    IdentityMismatchError,
    ObjectGoneError,
    ObjectNotFoundError,
    UnsafeAddressError,
)
from kizuna.server.json import json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The status answered when an error escapes a handler; a class not listed answers as its
# nearest listed base. The FetchError family (a fetch made while handling the request failed)
# answers 502, "the upstream failed us", wherever the failure is the peer's and could change
# later. The exceptions: 410/404 pass the peer's answer through; UnsafeAddressError is 400 and
# IdentityMismatchError / DomainPolicyFetchError 403 because retrying can never succeed, and a
# 4xx other than 401/408/429 tells Mastodon's DeliveryWorker not to retry (a 5xx would make it
# retry for days).
STATUSES: dict[type[KizunaError], int] = {
    KizunaError: 500,
    ValidationError: 422,
    UploadTooLargeError: 413,
    ConflictError: 409,
    NotFoundError: 404,
    PermissionDeniedError: 403,
    ProtocolError: 400,
    InvalidActivityError: 400,
    SignatureError: 401,
    FetchError: 502,
    ObjectGoneError: 410,
    ObjectNotFoundError: 404,
    DomainPolicyFetchError: 403,
    UnsafeAddressError: 400,
    IdentityMismatchError: 403,
}

# Answered in JSON whatever the Accept header says: federation, discovery and the API.
JSON_PREFIXES = ("/.well-known/", "/nodeinfo/", "/actor", "/inbox", "/api/")
# Discovery answers any origin's scripts, its errors too (kizuna.webfinger.routes).
CORS_PREFIXES = ("/.well-known/", "/nodeinfo/")


def http_status(exc: KizunaError) -> int:
    for cls in type(exc).__mro__:
        status = STATUSES.get(cls)
        if status is not None:
            return status
    return 500


def wants_json(request: web.Request) -> bool:
    """A JSON face (inbox, actors, discovery, API), or a client that asks for JSON only."""
    if request.path.startswith(JSON_PREFIXES) or request.path.endswith("/inbox"):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def http_error_message(exc: web.HTTPException) -> str:
    """What to tell the user about an aiohttp error: its own text, unless that is aiohttp's
    default ("404: Not Found"), then the reason phrase."""
    if exc.status == 413:
        return "That upload is too large."
    if exc.text and not exc.text.startswith(f"{exc.status}:"):
        return exc.text
    return exc.reason


def is_plain_http_error(exc: web.HTTPException) -> bool:
    """An aiohttp 4xx/5xx with aiohttp's plain-text body: answered as an error page or JSON.
    Redirects and responses a handler built on purpose pass through as they are."""
    return exc.status >= 400 and exc.content_type == "text/plain"


@web.middleware
async def json_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The JSON faces' errors as {"error": "…"}; anything else unhandled goes on to the web
    pages' error middleware (its log line and 500 page)."""
    if not wants_json(request):
        return await handler(request)
    cors = request.path.startswith(CORS_PREFIXES)
    try:
        return await handler(request)
    except KizunaError as exc:
        return json_response({"error": str(exc)}, status=http_status(exc), cors=cors)
    except web.HTTPException as exc:
        if not is_plain_http_error(exc):
            raise
        message = http_error_message(exc)
        return json_response({"error": message}, status=exc.status, cors=cors)
