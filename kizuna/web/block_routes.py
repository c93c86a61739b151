"""Blocking, muting and hiding domains: the profile buttons, /settings/blocks and its JSON."""

from __future__ import annotations

from aiohttp import web

from kizuna.errors import KizunaError
from kizuna.server.context import current_user, services
from kizuna.server.errors import http_status
from kizuna.server.json import json_response
from kizuna.storage.models import Account, User
from kizuna.web.context import require_user
from kizuna.web.forms import form_text
from kizuna.web.profile_routes import split_acct
from kizuna.web.render import render

routes = web.RouteTableDef()

ACCOUNT_ID = "{account_id:[0-9]{1,19}}"


@routes.post("/@{username}/{action:block|unblock|mute|unmute|hide_domain}")
async def post_profile_action(request: web.Request) -> web.Response:
    """The profile's buttons; back to the profile afterwards."""
    user = require_user(request)
    svc = services(request).blocks
    username, domain = split_acct(request)
    target = await svc.account_by_acct(username, domain)
    action = request.match_info["action"]
    if action == "block":
        await svc.block(user.account, target.id)
    elif action == "unblock":
        await svc.unblock(user.account, target.id)
    elif action == "mute":
        form = await request.post()
        await svc.mute(
            user.account,
            target.id,
            duration=form_text(form, "duration", 16) or "forever",
            notifications=form_text(form, "notifications", 8) == "on",
        )
    elif action == "unmute":
        await svc.unmute(user.account, target.id)
    else:
        await svc.block_domain(user.account, target.domain)
    raise web.HTTPSeeOther(f"/@{request.match_info['username']}")


async def _settings_page(
    request: web.Request, *, error: str | None = None, domain: str = "", status: int = 200
) -> web.Response:
    user = require_user(request)
    lists = await services(request).blocks.lists(user.account)
    context = {
        "lists": lists,
        "error": error,
        "domain_value": domain,
        "title": "Blocks and mutes",
    }
    return render(request, "settings_blocks.html", context, status=status)


@routes.get("/settings/blocks")
async def get_settings_blocks(request: web.Request) -> web.Response:
    return await _settings_page(request)


@routes.post(f"/settings/blocks/{ACCOUNT_ID}/{{action:unblock|unmute}}")
async def post_settings_account(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request).blocks
    target_id = int(request.match_info["account_id"])
    if request.match_info["action"] == "unblock":
        await svc.unblock(user.account, target_id)
    else:
        await svc.unmute(user.account, target_id)
    raise web.HTTPSeeOther("/settings/blocks")


@routes.post("/settings/blocks/domains")
async def post_settings_domain(request: web.Request) -> web.Response:
    """Add (`domain`) or, with `remove`, lift a domain block; a bad name is shown on the page."""
    user = require_user(request)
    form = await request.post()
    domain = form_text(form, "domain", 300)
    svc = services(request).blocks
    try:
        if form_text(form, "remove", 8):
            await svc.unblock_domain(user.account, domain)
        else:
            await svc.block_domain(user.account, domain)
    except KizunaError as exc:
        return await _settings_page(request, error=str(exc), domain=domain, status=http_status(exc))
    raise web.HTTPSeeOther("/settings/blocks")


def _api_user(request: web.Request) -> User:
    user = current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(text="log in first")
    return user


def _account_json(account: Account) -> dict[str, object]:
    return {"id": str(account.id), "acct": account.acct, "uri": account.uri}


@routes.get("/api/blocks")
async def get_api_blocks(request: web.Request) -> web.Response:
    user = _api_user(request)
    lists = await services(request).blocks.lists(user.account)
    return json_response([_account_json(b.target) for b in lists.blocks])


@routes.get("/api/mutes")
async def get_api_mutes(request: web.Request) -> web.Response:
    user = _api_user(request)
    lists = await services(request).blocks.lists(user.account)
    return json_response(
        [
            _account_json(m.target)
            | {
                "notifications": m.notifications,
                "expires_at": m.expires_at.isoformat() if m.expires_at else None,
            }
            for m in lists.mutes
        ]
    )


@routes.get("/api/domain_blocks")
async def get_api_domain_blocks(request: web.Request) -> web.Response:
    """Mastodon's GET /api/v1/domain_blocks shape: a list of domain names."""
    user = _api_user(request)
    lists = await services(request).blocks.lists(user.account)
    return json_response(lists.domains)
