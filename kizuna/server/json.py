"""JSON responses for federation and discovery endpoints."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

ACTIVITY_JSON = "application/activity+json"


def json_response(
    doc: Any, *, content_type: str = "application/json", status: int = 200, cors: bool = False
) -> web.Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = web.Response(body=body, status=status)
    # Set as a raw header: aiohttp's content_type setter would drop a `profile=` parameter.
    response.headers["Content-Type"] = (
        content_type if "charset" in content_type else f"{content_type}; charset=utf-8"
    )
    if cors:
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def activity_response(doc: Any) -> web.Response:
    response = json_response(doc, content_type=ACTIVITY_JSON, cors=True)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "max-age=180, public"
    return response
