"""Administration: sign-up mode and pending accounts."""

from __future__ import annotations

from aiohttp import web

from kizuna.web.context import require_admin, services
from kizuna.web.forms import form_text
from kizuna.web.render import render

routes = web.RouteTableDef()


@routes.get("/admin")
async def get_admin(request: web.Request) -> web.Response:
    require_admin(request)
    svc = services(request)
    context = {
        "mode": (await svc.settings.registrations()).value,
        "users": await svc.accounts.list_users(),
        "title": "Administration",
    }
    return render(request, "admin.html", context)


@routes.post("/admin/registrations")
async def post_admin_registrations(request: web.Request) -> web.Response:
    require_admin(request)
    form = await request.post()
    await services(request).settings.set_registrations(form_text(form, "registrations", 20))
    raise web.HTTPSeeOther("/admin")


@routes.post("/admin/users/{user_id:[0-9]{1,19}}/{action:approve|reject}")
async def post_admin_user_action(request: web.Request) -> web.Response:
    require_admin(request)
    accounts = services(request).accounts
    user_id = int(request.match_info["user_id"])
    if request.match_info["action"] == "approve":
        await accounts.approve(user_id)
    else:
        await accounts.reject(user_id)
    raise web.HTTPSeeOther("/admin")


@routes.post("/admin/federation")
async def post_admin_federation(request: web.Request) -> web.Response:
    require_admin(request)
    form = await request.post()
    enabled = form_text(form, "authorized_fetch", 10) == "on"
    await services(request).settings.set_authorized_fetch(enabled)
    raise web.HTTPSeeOther("/admin/federation")
