"""POST /inbox (shared), /users/NAME/inbox and /actor/inbox."""

from __future__ import annotations

import logging

from aiohttp import web

from kizuna.activitypub import jsonload
from kizuna.activitypub.errors import InvalidActivityError, InvalidJsonError, SignatureError
from kizuna.activitypub.vocab import ACTIVITY_TYPES, JsonObject, host_of, is_activity_media_type
from kizuna.errors import KizunaError, NotFoundError
from kizuna.federation import bodies
from kizuna.federation.errors import DomainRefusedError, FetchError, ForbiddenError
from kizuna.federation.signatures import key_id_of
from kizuna.realtime.events import LiveEvent
from kizuna.server import rate_limits
from kizuna.server.context import services
from kizuna.server.json import json_response

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_BODY = 1024 * 1024


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The whole body, however many segments or chunks it arrives in; 413 over `limit`."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = await bodies.read_capped(request.content, limit)
    if body is None:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=limit + 1)
    return body


def decode_activity(request: web.Request, body: bytes) -> JsonObject:
    content_type = request.headers.get("Content-Type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not is_activity_media_type(
        content_type, profile_required=False
    ):
        raise web.HTTPUnsupportedMediaType(text=f"unsupported content type {media or 'none'}")
    try:
        doc = jsonload.loads(body)
    except InvalidJsonError as exc:
        raise web.HTTPBadRequest(text=f"the body is not usable JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise web.HTTPBadRequest(text="the body is not a JSON object")
    return doc


async def _post(request: web.Request, recipient: str | None) -> web.Response:
    svc = services(request)
    accounting = svc.inbox_accounting
    # Rate-limited by the keyId's host, read before anything is verified: a flood costs no
    # signature checks and no key fetches. (A forged keyId can spend another server's
    # allowance; that server then gets 429 + Retry-After and retries, nothing is lost.)
    sender = _key_host(request)
    limited = rate_limits.check(request, "inbox", sender or "unknown")
    if limited is not None:
        accounting.rejected(sender, "rate_limited")
        return limited
    doc: JsonObject | None = None
    try:
        body = await read_capped(request, MAX_BODY)
        doc = decode_activity(request, body)
        signer = await svc.inbox.verify(
            method=request.method, path_qs=request.raw_path, headers=request.headers, body=body
        )
        received = await svc.inbox.receive(doc, signer, recipient=recipient)
    except (web.HTTPException, KizunaError) as exc:
        accounting.rejected(sender or _origin_host(doc), rejection_reason(exc, doc))
        if not isinstance(exc, web.HTTPException):
            logger.info(
                "inbox refused %s from %s: %s",
                str((doc or {}).get("type"))[:32],
                sender or _origin_host(doc) or "an unknown sender",
                exc,
            )
        raise
    accounting.received(host_of(signer.owner))
    if not received.duplicate:
        # Wakes the inbox worker here, or in a `kizuna worker` process sharing PostgreSQL.
        svc.hub.publish([LiveEvent(kind="inbox")])
    status = "duplicate" if received.duplicate else "accepted"
    return json_response({"status": status, "id": received.activity_id}, status=202)


def rejection_reason(exc: BaseException, doc: JsonObject | None) -> str:
    """The dashboard's reason for a refused request (kizuna.services.inbox_accounting.REASONS)."""
    match exc:
        case web.HTTPRequestEntityTooLarge():
            return "too_large"
        case web.HTTPUnsupportedMediaType():
            return "unsupported_type"
        case web.HTTPBadRequest():
            return "bad_json"
        case DomainRefusedError(reason="suspended"):
            return "suspended"
        case DomainRefusedError(reason="not allow-listed"):
            return "not_allowlisted"
        case ForbiddenError():
            return "forbidden"
        case SignatureError() | FetchError():
            return "signature"  # a FetchError here: the signing key could not be fetched
        case InvalidActivityError():
            kind = doc.get("type") if doc is not None else None
            unsupported = isinstance(kind, str) and kind not in ACTIVITY_TYPES
            return "unsupported_type" if unsupported else "bad_json"
        case NotFoundError():
            return "unknown_recipient"
    return "other"


def _key_host(request: web.Request) -> str | None:
    """The host of the signature's keyId, from the headers alone (no verification)."""
    try:
        _scheme, key_id = key_id_of(request.headers)
    except SignatureError:
        return None
    return host_of(key_id) or None


def _origin_host(doc: JsonObject | None) -> str | None:
    actor = doc.get("actor") if doc is not None else None
    actor = actor.get("id") if isinstance(actor, dict) else actor
    if isinstance(actor, str) and "//" in actor:
        return host_of(actor) or None
    return None


@routes.post("/inbox")
async def post_shared_inbox(request: web.Request) -> web.Response:
    return await _post(request, None)


@routes.post("/users/{username}/inbox")
async def post_inbox(request: web.Request) -> web.Response:
    return await _post(request, request.match_info["username"])


@routes.post("/actor/inbox")
async def post_instance_inbox(request: web.Request) -> web.Response:
    return await _post(request, services(request).config.domain)


@routes.post("/c/{slug}/inbox")
async def post_group_inbox(request: web.Request) -> web.Response:
    return await _post(request, request.match_info["slug"])
