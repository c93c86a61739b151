"""Account moderation pages (moderators; roles are the administrators') and the audit log
(administrators)."""

from __future__ import annotations

from aiohttp import web

from kizuna.services.account_moderation import ACCOUNT_STATES as STATES
from kizuna.web.context import (
    parse_max_id,
    require_admin,
    require_moderator,
    see_other,
    services,
)
from kizuna.web.forms import form_text
from kizuna.web.render import render

routes = web.RouteTableDef()

ACCOUNT = "/admin/accounts/{account_id:[0-9]{1,19}}"
AUDIT_PAGE = 50


@routes.get("/admin/accounts")
async def get_admin_accounts(request: web.Request) -> web.Response:
    user = require_moderator(request)
    query = request.query.get("q", "")[:100]
    state = request.query.get("state", "")
    if state not in STATES:
        raise web.HTTPBadRequest(text=f"state must be one of {', '.join(s for s in STATES if s)}")
    rows = await services(request).account_moderation.search(
        user, query, state=state, max_id=parse_max_id(request)
    )
    context = {
        "rows": rows,
        "q": query,
        "state": state,
        "states": STATES,
        "next_max_id": rows[-1][0].id if len(rows) == 40 else None,
        "title": "Accounts",
    }
    return render(request, "admin_accounts.html", context)


@routes.get(ACCOUNT)
async def get_admin_account(request: web.Request) -> web.Response:
    user = require_moderator(request)
    detail = await services(request).account_moderation.detail(
        user, int(request.match_info["account_id"])
    )
    context = {"d": detail, "title": f"@{detail.account.acct}"}
    return render(request, "admin_account.html", context)


@routes.post(ACCOUNT + "/{action:warn|limit|suspend|unlimit|unsuspend}")
async def post_admin_account_action(request: web.Request) -> web.Response:
    user = require_moderator(request)
    moderation = services(request).account_moderation
    account_id = int(request.match_info["account_id"])
    action = request.match_info["action"]
    form = await request.post()
    if action.startswith("un"):
        await moderation.lift(user, account_id, action.removeprefix("un"))
    else:
        await moderation.act(user, account_id, action, text=form_text(form, "text", 5000))
    return see_other(f"/admin/accounts/{account_id}")


@routes.post(ACCOUNT + "/{decision:approve|reject}")
async def post_admin_sign_up(request: web.Request) -> web.Response:
    user = require_moderator(request)
    account_id = int(request.match_info["account_id"])
    approve = request.match_info["decision"] == "approve"
    await services(request).account_moderation.decide_sign_up(user, account_id, approve=approve)
    return see_other(
        f"/admin/accounts/{account_id}" if approve else "/admin/accounts?state=pending"
    )


@routes.post(ACCOUNT + "/role")
async def post_admin_role(request: web.Request) -> web.Response:
    user = require_admin(request)
    account_id = int(request.match_info["account_id"])
    form = await request.post()
    await services(request).account_moderation.set_role(
        user, account_id, form_text(form, "role", 20)
    )
    return see_other(f"/admin/accounts/{account_id}")


@routes.get("/admin/audit")
async def get_admin_audit(request: web.Request) -> web.Response:
    user = require_admin(request)
    action = request.query.get("action", "")[:48]
    entries = await services(request).account_moderation.audit_log(
        user, limit=AUDIT_PAGE, max_id=parse_max_id(request), action=action
    )
    context = {
        "entries": entries,
        "action": action,
        "next_max_id": entries[-1].id if len(entries) == AUDIT_PAGE else None,
        "title": "Audit log",
    }
    return render(request, "admin_audit.html", context)
