"""Writing, reading and deleting posts."""

from __future__ import annotations

from aiohttp import web

from kizuna.activitypub.text import MAX_POST_CHARS
from kizuna.errors import ValidationError
from kizuna.server.context import current_user, parse_max_id, services
from kizuna.server.errors import http_status
from kizuna.server.rate_limits import take
from kizuna.storage.models import Post
from kizuna.web.context import back_to, require_user
from kizuna.web.forms import echo, form_draft, form_text
from kizuna.web.notification_groups import group_notifications
from kizuna.web.render import render
from kizuna.web.timeline_routes import compose_context

routes = web.RouteTableDef()


@routes.post("/posts")
async def post_posts(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request)
    form = await request.post()
    reply_to = form_text(form, "in_reply_to", 20)
    content = form_draft(form, "content")
    summary = form_draft(form, "summary")
    draft = {
        "content": echo(content),
        "summary": echo(summary),
        "visibility": form_text(form, "visibility", 20) or "public",
        "language": form_text(form, "language", 20),
    }
    if (refused := take(request, "post", str(user.account_id))) is not None:
        message, seconds = refused  # posting too fast: the form again, with the text
        response = await _compose_again(request, reply_to, draft, message, status=429)
        response.headers["Retry-After"] = str(seconds)
        return response
    try:
        await svc.posts.create(
            user.account,
            content,
            summary=summary,
            visibility=draft["visibility"],
            language=draft["language"],
            in_reply_to=int(reply_to) if reply_to.isdigit() else None,
        )
    except ValidationError as exc:
        return await _compose_again(request, reply_to, draft, str(exc), status=http_status(exc))
    if reply_to.isdigit():
        raise web.HTTPSeeOther(f"/posts/{reply_to}")
    raise web.HTTPSeeOther("/")


async def _compose_again(
    request: web.Request, reply_to: str, draft: dict[str, str], error: str, *, status: int
) -> web.Response:
    """The form a refused post came from, holding its text and saying why: the thread's
    reply form for a reply, else the home page's."""
    user = require_user(request)
    svc = services(request)
    if reply_to.isdigit():
        post = await svc.posts.get_visible(int(reply_to), user.account)
        return await _post_page(request, post, error=error, draft=draft["content"], status=status)
    page = await svc.timelines.home(user.account)
    context = {**compose_context(), "page": page, "title": "Home", "error": error, "draft": draft}
    return render(request, "home.html", context, status=status)


@routes.get("/posts/{post_id:[0-9]{1,19}}")
async def get_post_by_id(request: web.Request) -> web.Response:
    user = current_user(request)
    post = await services(request).posts.get_visible(
        int(request.match_info["post_id"]), user.account if user else None
    )
    raise web.HTTPFound(f"/@{post.account.acct}/{post.id}")


@routes.post("/posts/{post_id:[0-9]{1,19}}/{action:like|unlike|boost|unboost}")
async def post_interaction(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request).interactions
    post_id = int(request.match_info["post_id"])
    actions = {"like": svc.like, "unlike": svc.unlike, "boost": svc.boost, "unboost": svc.unboost}
    await actions[request.match_info["action"]](user.account, post_id)
    raise web.HTTPSeeOther(back_to(request, f"/posts/{post_id}"))


@routes.get("/@{username}/{post_id:[0-9]{1,19}}")
async def get_post(request: web.Request) -> web.Response:
    user = current_user(request)
    post = await services(request).posts.get_visible(
        int(request.match_info["post_id"]), user.account if user else None
    )
    if post.account.acct.casefold() != request.match_info["username"].casefold():
        raise web.HTTPNotFound()
    return await _post_page(request, post)


async def _post_page(
    request: web.Request,
    post: Post,
    *,
    error: str | None = None,
    draft: str | None = None,
    status: int = 200,
) -> web.Response:
    """A post with its thread; `error` and `draft` re-show a refused reply in the reply form."""
    user = current_user(request)
    svc = services(request)
    viewer = user.account if user else None
    ancestors, replies = await svc.interactions.thread(post, viewer)
    shown = [*ancestors, post, *replies]
    stats = await svc.interactions.stats(shown, viewer)
    reactions = await svc.reactions.summary(shown, viewer)
    delivery = await svc.posts.delivery(post) if viewer and viewer.id == post.account_id else None
    context = {
        "post": post,
        "ancestors": ancestors,
        "replies": replies,
        "stats": stats,
        "reactions": reactions,
        "delivery": delivery,
        "live_since": svc.live.now_cursor(),
        "max_chars": MAX_POST_CHARS,
        "title": f"Post by @{post.account.acct}",
        "error": error,
        "reply_draft": draft,
    }
    return render(request, "post.html", context, status=status)


@routes.get("/posts/{post_id:[0-9]{1,19}}/edit")
async def get_edit_post(request: web.Request) -> web.Response:
    user = require_user(request)
    post = await services(request).posts.get_visible(
        int(request.match_info["post_id"]), user.account
    )
    if post.account_id != user.account.id or post.reblog_of_id is not None:
        raise web.HTTPForbidden(text="you can only edit your own posts")
    context: dict[str, object] = {
        "post": post,
        "error": None,
        "max_chars": MAX_POST_CHARS,
        "title": "Edit post",
        "draft": {"content": post.content_source, "summary": post.summary},
    }
    return render(request, "edit_post.html", context)


@routes.post("/posts/{post_id:[0-9]{1,19}}/edit")
async def post_edit_post(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request)
    post_id = int(request.match_info["post_id"])
    form = await request.post()
    content = form_draft(form, "content")
    summary = form_draft(form, "summary")
    draft = {"content": echo(content), "summary": echo(summary)}
    try:
        post = await svc.posts.edit(post_id, user.account, content, summary=summary)
    except ValidationError as exc:
        post = await svc.posts.get_visible(post_id, user.account)
        context = {"post": post, "error": str(exc), "draft": draft, "max_chars": MAX_POST_CHARS}
        return render(request, "edit_post.html", context, status=http_status(exc))
    raise web.HTTPSeeOther(f"/@{post.account.acct}/{post.id}")


@routes.get("/notifications")
async def get_notifications(request: web.Request) -> web.Response:
    user = require_user(request)
    max_id = parse_max_id(request)
    items = await services(request).interactions.notifications(user.account, max_id=max_id)
    since = services(request).live.now_cursor() if max_id is None else None
    context = {"entries": group_notifications(items), "title": "Notifications", "live_since": since}
    return render(request, "notifications.html", context)


@routes.post("/posts/{post_id:[0-9]{1,19}}/delete")
async def post_delete_post(request: web.Request) -> web.Response:
    user = require_user(request)
    await services(request).posts.delete(int(request.match_info["post_id"]), user.account)
    raise web.HTTPSeeOther(f"/@{user.account.username}")
