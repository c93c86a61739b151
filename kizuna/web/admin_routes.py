"""Administration: the server's description, sign-up mode and pending accounts."""

from __future__ import annotations

from aiohttp import web

from kizuna.errors import ValidationError
from kizuna.server.context import services
from kizuna.services.settings import (
    MAX_EMAIL,
    MAX_RULE,
    MAX_RULES,
    MAX_SITE_DESCRIPTION,
    MAX_SITE_NAME,
    SiteInfo,
)
from kizuna.web.context import require_admin
from kizuna.web.forms import form_text
from kizuna.web.render import render

routes = web.RouteTableDef()


async def _page(
    request: web.Request, *, site: SiteInfo | None = None, error: str | None = None
) -> web.Response:
    svc = services(request)
    context = {
        "mode": (await svc.settings.registrations()).value,
        "users": await svc.accounts.list_users(),
        "site": site or await svc.settings.site(),
        "site_error": error,
        "limits": {"name": MAX_SITE_NAME, "description": MAX_SITE_DESCRIPTION},
        "title": "Administration",
    }
    return render(request, "admin.html", context, status=422 if error else 200)


@routes.get("/admin")
async def get_admin(request: web.Request) -> web.Response:
    require_admin(request)
    return await _page(request)


@routes.post("/admin/site")
async def post_admin_site(request: web.Request) -> web.Response:
    """Name, description, rules (one a line, in order) and contact, shown on /about."""
    user = require_admin(request)
    form = await request.post()
    rules = form_text(form, "rules", (MAX_RULE + 2) * MAX_RULES * 2)
    site = SiteInfo(
        name=form_text(form, "name", MAX_SITE_NAME * 4),
        description=form_text(form, "description", MAX_SITE_DESCRIPTION * 4),
        rules=tuple(rules.splitlines()),
        contact_account=form_text(form, "contact_account", 64),
        contact_email=form_text(form, "contact_email", MAX_EMAIL * 2),
    )
    try:
        await services(request).settings.set_site(site, by=user.account)
    except ValidationError as exc:  # the form comes back as typed, with the reason
        return await _page(request, site=site, error=str(exc))
    raise web.HTTPSeeOther("/admin?saved=site")


@routes.post("/admin/registrations")
async def post_admin_registrations(request: web.Request) -> web.Response:
    user = require_admin(request)
    form = await request.post()
    mode = form_text(form, "registrations", 20)
    await services(request).settings.set_registrations(mode, by=user.account)
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
    user = require_admin(request)
    form = await request.post()
    enabled = form_text(form, "authorized_fetch", 10) == "on"
    await services(request).settings.set_authorized_fetch(enabled, by=user.account)
    raise web.HTTPSeeOther("/admin/federation")
