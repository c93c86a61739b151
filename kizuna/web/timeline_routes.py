"""Home, local and hashtag timelines, and the home feed's setting."""

from __future__ import annotations

from aiohttp import web

from kizuna.activitypub.text import MAX_POST_CHARS, normalize_hashtag
from kizuna.errors import ValidationError
from kizuna.server.context import current_user, parse_max_id, services
from kizuna.server.errors import http_status
from kizuna.services.posts import LANGUAGES
from kizuna.services.timelines import COMMUNITY_FEED_CHOICES
from kizuna.web.context import require_user
from kizuna.web.forms import form_text
from kizuna.web.render import render

routes = web.RouteTableDef()


def compose_context() -> dict[str, object]:
    # A page re-shown with an error is not live (its feed is the one the form was sent from).
    return {
        "max_chars": MAX_POST_CHARS,
        "languages": LANGUAGES,
        "error": None,
        "draft": {},
        "live_since": None,
    }


@routes.get("/")
async def get_home(request: web.Request) -> web.Response:
    user = current_user(request)
    if user is None:
        raise web.HTTPSeeOther("/public")
    svc = services(request)
    max_id = parse_max_id(request)
    page = await svc.timelines.home(
        user.account,
        max_id=max_id,
        # `cmax_id`: where the home feed's community stream continues (see Page).
        community_max_id=parse_max_id(request, "cmax_id"),
        every=user.community_feed_every,
    )
    # The newest page goes live from the moment it was read; older pages stay still.
    since = svc.live.now_cursor() if max_id is None else None
    context = {**compose_context(), "page": page, "title": "Home", "live_since": since}
    return render(request, "home.html", context)


def feed_choices() -> list[tuple[int, str]]:
    return [(n, f"One every {n} posts" if n else "Off") for n in COMMUNITY_FEED_CHOICES]


@routes.get("/settings/feed")
async def get_settings_feed(request: web.Request) -> web.Response:
    user = require_user(request)
    context = {"choices": feed_choices(), "current": user.community_feed_every, "error": None}
    return render(request, "settings_feed.html", context)


@routes.post("/settings/feed")
async def post_settings_feed(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await request.post()
    raw = form_text(form, "community_feed_every", 10)
    every = int(raw) if raw.isdigit() else -1
    try:
        await services(request).timelines.set_community_feed_every(user.id, every)
    except ValidationError as exc:
        context = {"choices": feed_choices(), "current": every, "error": str(exc)}
        return render(request, "settings_feed.html", context, status=http_status(exc))
    raise web.HTTPSeeOther("/settings/feed?saved=1")


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
