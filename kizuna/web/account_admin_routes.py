"""Account moderation pages (moderators; roles are the administrators') and the audit log
(administrators)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kizuna.errors import PermissionDeniedError, ValidationError
from kizuna.server.context import parse_max_id, services
from kizuna.server.errors import http_status
from kizuna.services.account_moderation import ACCOUNT_STATES as STATES
from kizuna.storage.models import User
from kizuna.web.context import require_admin, require_moderator, see_other
from kizuna.web.forms import echo, form_draft, form_text
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


async def _account_page(
    request: web.Request,
    user: User,
    account_id: int,
    *,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """An account's page; after a refused action (`refused`: its verb, the explanation
    typed and why) with that form shown again holding the text, and the reason."""
    detail = await services(request).account_moderation.detail(user, account_id)
    context = {"d": detail, "refused": refused, "title": f"@{detail.account.acct}"}
    return render(request, "admin_account.html", context, status=status)


@routes.get(ACCOUNT)
async def get_admin_account(request: web.Request) -> web.Response:
    user = require_moderator(request)
    return await _account_page(request, user, int(request.match_info["account_id"]))


@routes.post(ACCOUNT + "/{action:warn|limit|suspend|unlimit|unsuspend}")
async def post_admin_account_action(request: web.Request) -> web.Response:
    user = require_moderator(request)
    moderation = services(request).account_moderation
    account_id = int(request.match_info["account_id"])
    action = request.match_info["action"]
    form = await request.post()
    text = form_draft(form, "text")  # any length: the service says the limit
    try:
        if action.startswith("un"):
            await moderation.lift(user, account_id, action.removeprefix("un"))
        else:
            await moderation.act(user, account_id, action, text=text)
    except (ValidationError, PermissionDeniedError) as exc:  # e.g. limited already
        refused = {"verb": action, "text": echo(text), "error": str(exc)}
        return await _account_page(
            request, user, account_id, refused=refused, status=http_status(exc)
        )
    return see_other(f"/admin/accounts/{account_id}")


@routes.post(ACCOUNT + "/{decision:approve|reject}")
async def post_admin_sign_up(request: web.Request) -> web.Response:
    user = require_moderator(request)
    account_id = int(request.match_info["account_id"])
    approve = request.match_info["decision"] == "approve"
    try:
        await services(request).account_moderation.decide_sign_up(user, account_id, approve=approve)
    except (ValidationError, PermissionDeniedError) as exc:  # decided already
        refused = {"verb": request.match_info["decision"], "text": "", "error": str(exc)}
        return await _account_page(
            request, user, account_id, refused=refused, status=http_status(exc)
        )
    return see_other(
        f"/admin/accounts/{account_id}" if approve else "/admin/accounts?state=pending"
    )


@routes.post(ACCOUNT + "/role")
async def post_admin_role(request: web.Request) -> web.Response:
    user = require_admin(request)
    account_id = int(request.match_info["account_id"])
    form = await request.post()
    try:
        await services(request).account_moderation.set_role(
            user, account_id, form_text(form, "role", 20)
        )
    except (ValidationError, PermissionDeniedError) as exc:  # the last administrator
        refused = {"verb": "role", "text": "", "error": str(exc)}
        return await _account_page(
            request, user, account_id, refused=refused, status=http_status(exc)
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
