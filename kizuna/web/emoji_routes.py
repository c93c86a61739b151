"""Custom emoji: the admin page, the picker's search, and each one's ActivityPub document."""

from __future__ import annotations

from aiohttp import web

from kizuna.errors import ValidationError
from kizuna.server.context import services
from kizuna.server.json import activity_response, json_response
from kizuna.services.custom_emoji import MAX_EMOJI_BYTES, image_src
from kizuna.web.context import require_admin, require_user
from kizuna.web.forms import form_file, form_text
from kizuna.web.render import render

routes = web.RouteTableDef()


async def _admin_page(
    request: web.Request, *, error: str | None = None, form: dict[str, object] | None = None
) -> web.Response:
    emojis = await services(request).custom_emoji.list_local()
    context = {
        "emojis": [(e, image_src(e)) for e in emojis],
        "error": error,
        "form": form or {"shortcode": "", "category": "", "local_only": False},
        "max_kib": MAX_EMOJI_BYTES // 1024,
        "title": "Custom emoji",
    }
    return render(request, "admin_emoji.html", context, status=422 if error else 200)


@routes.get("/admin/emoji")
async def get_admin_emoji(request: web.Request) -> web.Response:
    require_admin(request)
    return await _admin_page(request)


@routes.post("/admin/emoji")
async def post_admin_emoji(request: web.Request) -> web.Response:
    require_admin(request)
    form = await request.post()
    shortcode = form_text(form, "shortcode", 200)
    category = form_text(form, "category", 200)
    local_only = form_text(form, "local_only", 10) == "on"
    try:
        await services(request).custom_emoji.upload(
            shortcode, form_file(form, "image") or b"", category=category, local_only=local_only
        )
    except ValidationError as exc:
        values = {"shortcode": shortcode, "category": category, "local_only": local_only}
        return await _admin_page(request, error=str(exc), form=values)
    raise web.HTTPSeeOther("/admin/emoji")


@routes.post("/admin/emoji/{emoji_id:[0-9]{1,19}}/delete")
async def post_admin_emoji_delete(request: web.Request) -> web.Response:
    require_admin(request)
    await services(request).custom_emoji.delete(int(request.match_info["emoji_id"]))
    raise web.HTTPSeeOther("/admin/emoji")


@routes.get("/api/emoji")
async def get_emoji_search(request: web.Request) -> web.Response:
    """The picker: `?q=` matches shortcode or category; signed-in users only."""
    require_user(request)
    found = await services(request).custom_emoji.search(request.query.get("q", "")[:64])
    return json_response(
        [{"shortcode": e.shortcode, "url": image_src(e), "category": e.category} for e in found]
    )


@routes.get("/emoji/{shortcode:[A-Za-z0-9_]{2,64}}")
async def get_emoji(request: web.Request) -> web.Response:
    """One of ours as an ActivityPub `Emoji` (the id of the tags we send), always JSON."""
    return activity_response(
        await services(request).custom_emoji.document(request.match_info["shortcode"])
    )
