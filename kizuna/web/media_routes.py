"""Serving uploaded media and the app's own static files."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from kizuna.server.context import services

routes = web.RouteTableDef()

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


@routes.get("/media/{folder:[a-z]+}/{name:[A-Za-z0-9_-]+\\.[a-z]{3,4}}")
async def get_media(request: web.Request) -> web.FileResponse:
    root = Path(services(request).config.media_dir)
    name = request.match_info["name"]
    # Every name is new (a random suffix): it never changes, so it may be cached for good.
    return _file(root / request.match_info["folder"] / name, "public, max-age=604800, immutable")


@routes.get(
    "/media/emoji/{domain:[a-z0-9_][a-z0-9_.-]{0,252}}/{name:[A-Za-z0-9_+-]{1,64}\\.[a-z]{3,4}}"
)
async def get_remote_emoji(request: web.Request) -> web.FileResponse:
    """Other servers' custom emoji, cached at a fixed name per emoji: the image may change
    when its server changes it, so browsers keep it for a day only."""
    root = Path(services(request).config.media_dir)
    domain, name = request.match_info["domain"], request.match_info["name"]
    return _file(root / "emoji" / domain / name, "public, max-age=86400")


def _file(path: Path, cache_control: str) -> web.FileResponse:
    content_type = MEDIA_TYPES.get(path.name.rsplit(".", 1)[1])
    if content_type is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(
        path,
        headers={
            "Content-Type": content_type,
            "Cache-Control": cache_control,
            "Content-Security-Policy": "default-src 'none'",
        },
    )
