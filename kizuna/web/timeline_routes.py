"""Home, local and hashtag timelines."""

from __future__ import annotations

from aiohttp import web

from kizuna.activitypub.text import MAX_POST_CHARS, normalize_hashtag
from kizuna.services.posts import LANGUAGES
from kizuna.web.context import current_user, parse_max_id, services
from kizuna.web.render import render

routes = web.RouteTableDef()


def compose_context() -> dict[str, object]:
    return {"max_chars": MAX_POST_CHARS, "languages": LANGUAGES, "error": None, "draft": {}}


@routes.get("/")
async def get_home(request: web.Request) -> web.Response:
    user = current_user(request)
    if user is None:
        raise web.HTTPSeeOther("/public")
    page = await services(request).timelines.home(user.account, max_id=parse_max_id(request))
    return render(request, "home.html", {"page": page, "title": "Home", **compose_context()})


@routes.get("/public")
async def get_public(request: web.Request) -> web.Response:
    user = current_user(request)
    viewer = user.account if user else None
    page = await services(request).timelines.local(viewer, max_id=parse_max_id(request))
    return render(request, "timeline.html", {"page": page, "title": "Local timeline"})


@routes.get("/tags/{tag}")
async def get_tag(request: web.Request) -> web.Response:
    tag = normalize_hashtag(request.match_info["tag"])
    user = current_user(request)
    viewer = user.account if user else None
    page = await services(request).timelines.tag(tag, viewer, max_id=parse_max_id(request))
    return render(request, "timeline.html", {"page": page, "title": f"#{tag}"})
