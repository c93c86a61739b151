"""Serving uploaded media and the app's own static files."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from kizuna.web.context import services

routes = web.RouteTableDef()

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


@routes.get("/media/{folder:[a-z]+}/{name:[A-Za-z0-9_-]+\\.[a-z]{3,4}}")
async def get_media(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    content_type = MEDIA_TYPES.get(name.rsplit(".", 1)[1])
    root = Path(services(request).config.media_dir)
    path = root / request.match_info["folder"] / name
    if content_type is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(
        path,
        headers={
            "Content-Type": content_type,
            "Cache-Control": "public, max-age=604800, immutable",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
