"""POST /inbox (shared), /users/NAME/inbox and /actor/inbox."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from kizuna.activitypub.errors import ApError
from kizuna.activitypub.vocab import JsonObject, is_activity_media_type
from kizuna.web.context import services
from kizuna.web.json import json_response

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_BODY = 1024 * 1024


async def read_capped(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return body


def decode_activity(request: web.Request, body: bytes) -> JsonObject:
    content_type = request.headers.get("Content-Type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not is_activity_media_type(
        content_type, profile_required=False
    ):
        raise web.HTTPUnsupportedMediaType(text=f"unsupported content type {media or 'none'}")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise web.HTTPBadRequest(text="the body is not a JSON object")
    return doc


async def _post(request: web.Request, recipient: str | None) -> web.Response:
    svc = services(request)
    body = await read_capped(request, MAX_BODY)
    doc = decode_activity(request, body)
    try:
        signer = await svc.inbox.verify(
            method=request.method, path_qs=request.raw_path, headers=request.headers, body=body
        )
        received = await svc.inbox.receive(doc, signer, recipient=recipient)
    except ApError as exc:
        logger.info(
            "inbox refused %s from %s: %s",
            str(doc.get("type"))[:32],
            _origin(doc),
            exc,
        )
        raise
    if not received.duplicate:
        svc.processor.wakeup.set()
    status = "duplicate" if received.duplicate else "accepted"
    return json_response({"status": status, "id": received.activity_id}, status=202)


def _origin(doc: JsonObject) -> str:
    actor = doc.get("actor")
    actor = actor.get("id") if isinstance(actor, dict) else actor
    if isinstance(actor, str) and "//" in actor:
        return actor.split("/")[2][:255]
    return "an unknown sender"


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
