"""Discovery: WebFinger, host-meta, NodeInfo, and robots.txt for crawlers."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from kizuna.activitypub.nodeinfo import nodeinfo_content_type, nodeinfo_links_json
from kizuna.server.context import services
from kizuna.server.json import json_response
from kizuna.webfinger.codec import host_meta_json, host_meta_xml
from kizuna.webfinger.robots import DEFAULT_ROBOTS_TXT

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()


@routes.get("/.well-known/webfinger")
async def get_webfinger(request: web.Request) -> web.Response:
    resource = request.query.get("resource", "").strip()
    if not resource or len(resource) > 2048:
        return json_response({"error": "resource is required"}, status=400, cors=True)
    jrd = await services(request).discovery.webfinger(resource)
    return json_response(jrd, content_type="application/jrd+json", cors=True)


@routes.get("/.well-known/host-meta")
async def get_host_meta(request: web.Request) -> web.Response:
    response = web.Response(
        text=host_meta_xml(services(request).config.base_url),
        content_type="application/xrd+xml",
        charset="utf-8",
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@routes.get("/.well-known/host-meta.json")
async def get_host_meta_json(request: web.Request) -> web.Response:
    doc = host_meta_json(services(request).config.base_url)
    return json_response(doc, content_type="application/json", cors=True)


@routes.get("/.well-known/nodeinfo")
async def get_nodeinfo_links(request: web.Request) -> web.Response:
    return json_response(nodeinfo_links_json(services(request).config.base_url), cors=True)


@routes.get("/nodeinfo/{version:2\\.[01]}")
async def get_nodeinfo(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    doc = await services(request).discovery.nodeinfo(version)
    return json_response(doc, content_type=nodeinfo_content_type(version), cors=True)


@routes.get("/robots.txt")
async def get_robots_txt(request: web.Request) -> web.Response:
    """The admin's file (KIZUNA_ROBOTS_TXT, read on each request so an edit needs no
    restart), else the default; an unreadable file falls back to the default, logged."""
    path = services(request).config.robots_txt
    text = DEFAULT_ROBOTS_TXT
    if path is not None:
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("robots.txt: cannot read %s (%s); serving the default", path, exc)
    return web.Response(text=text, content_type="text/plain", charset="utf-8")
