"""Writing, reading and deleting posts."""

from __future__ import annotations

from aiohttp import web

from kizuna.errors import ValidationError
from kizuna.web.context import current_user, require_user, services
from kizuna.web.forms import form_text
from kizuna.web.render import render
from kizuna.web.timeline_routes import compose_context

routes = web.RouteTableDef()


@routes.post("/posts")
async def post_posts(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request)
    form = await request.post()
    draft = {
        "content": form_text(form, "content", 5000),
        "summary": form_text(form, "summary", 1000),
        "visibility": form_text(form, "visibility", 20) or "public",
        "language": form_text(form, "language", 20),
    }
    try:
        await svc.posts.create(
            user.account,
            draft["content"],
            summary=draft["summary"],
            visibility=draft["visibility"],
            language=draft["language"],
        )
    except ValidationError as exc:
        page = await svc.timelines.home(user.account)
        context = {**compose_context(), "page": page, "title": "Home"}
        context.update(error=str(exc), draft=draft)
        return render(request, "home.html", context, status=422)
    raise web.HTTPSeeOther("/")


@routes.get("/@{username}/{post_id:[0-9]{1,19}}")
async def get_post(request: web.Request) -> web.Response:
    user = current_user(request)
    post = await services(request).posts.get_visible(
        int(request.match_info["post_id"]), user.account if user else None
    )
    if post.account.acct.casefold() != request.match_info["username"].casefold():
        raise web.HTTPNotFound()
    return render(request, "post.html", {"post": post, "title": f"Post by @{post.account.acct}"})


@routes.post("/posts/{post_id:[0-9]{1,19}}/delete")
async def post_delete_post(request: web.Request) -> web.Response:
    user = require_user(request)
    await services(request).posts.delete(int(request.match_info["post_id"]), user.account)
    raise web.HTTPSeeOther(f"/@{user.account.username}")
