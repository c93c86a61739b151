"""Reporting an account (users) and the report queue (moderators)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kizuna.errors import PermissionDeniedError, ValidationError
from kizuna.server.context import parse_max_id, services
from kizuna.server.errors import http_status
from kizuna.services.reports import CATEGORIES, MAX_COMMENT
from kizuna.storage.models import User
from kizuna.web.context import require_moderator, require_user, see_other
from kizuna.web.forms import Form, echo, form_draft, form_text
from kizuna.web.render import render

routes = web.RouteTableDef()

CATEGORY_LABELS = {
    "spam": "Spam",
    "legal": "Illegal content",
    "violation": "Breaks this server's rules",
    "other": "Something else",
}


def _id(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 19:
        raise web.HTTPBadRequest(text=f"{name} must be a number")
    return int(value)


def _post_ids(values: list[str]) -> list[int]:
    return [_id(v, "post") for v in values if v]


def _form_posts(form: Form) -> list[int]:
    values = form.getall("post", [])
    if not all(isinstance(v, str) for v in values):
        raise web.HTTPBadRequest(text="post must be a number")
    return _post_ids([v for v in values if isinstance(v, str)])


@routes.get("/report")
async def get_report(request: web.Request) -> web.Response:
    user = require_user(request)
    account_id = _id(request.query.get("account", ""), "account")
    post_ids = _post_ids(request.query.getall("post", []))
    form = await services(request).reports.form(user.account, account_id, post_ids)
    context = {
        "form": form,
        "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        "values": {"category": "other", "comment": "", "forward": True},
        "max_comment": MAX_COMMENT,
        "error": None,
        "title": f"Report @{form.target.acct}",
    }
    return render(request, "report.html", context)


@routes.post("/report")
async def post_report(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request).reports
    form = await request.post()
    account_id = _id(form_text(form, "account", 20), "account")
    post_ids = _form_posts(form)
    comment = form_draft(form, "comment")  # any length: the service says the limit
    values = {
        "category": form_text(form, "category", 20) or "other",
        "comment": echo(comment),
        "forward": form_text(form, "forward", 10) == "on",
    }
    try:
        await svc.create(
            user.account,
            account_id,
            post_ids=post_ids,
            category=str(values["category"]),
            comment=comment,
            forward=bool(values["forward"]),
        )
    except ValidationError as exc:
        report_form = await svc.form(user.account, account_id, post_ids)
        context = {
            "form": report_form,
            "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
            "values": values,
            "max_comment": MAX_COMMENT,
            "error": str(exc),
            "title": "Report",
        }
        return render(request, "report.html", context, status=http_status(exc))
    return render(request, "report_sent.html", {"title": "Report sent"})


@routes.get("/warnings")
async def get_warnings(request: web.Request) -> web.Response:
    user = require_user(request)
    warnings = await services(request).account_moderation.own_warnings(user.account)
    return render(request, "warnings.html", {"warnings": warnings, "title": "Moderation"})


# --- moderators ------------------------------------------------------------------------------


@routes.get("/admin/reports")
async def get_admin_reports(request: web.Request) -> web.Response:
    user = require_moderator(request)
    state = request.query.get("state", "open")
    reports = await services(request).reports.queue(user, state=state, max_id=parse_max_id(request))
    context = {
        "reports": reports,
        "state": state,
        "labels": CATEGORY_LABELS,
        "next_max_id": reports[-1].id if len(reports) == 40 else None,
        "title": "Reports",
    }
    return render(request, "admin_reports.html", context)


async def _report_page(
    request: web.Request,
    user: User,
    report_id: int,
    *,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """A report's page; after a refused action (`refused`: which, what was typed, why) with
    its form shown again holding the text, and the reason."""
    detail = await services(request).reports.detail(user, report_id)
    context = {
        "d": detail,
        "labels": CATEGORY_LABELS,
        "refused": refused,
        "title": f"Report {detail.report.id}",
    }
    return render(request, "admin_report.html", context, status=status)


@routes.get("/admin/reports/{report_id:[0-9]{1,19}}")
async def get_admin_report(request: web.Request) -> web.Response:
    user = require_moderator(request)
    return await _report_page(request, user, int(request.match_info["report_id"]))


@routes.post("/admin/reports/{report_id:[0-9]{1,19}}/{action:resolve|reopen|note|assign}")
async def post_admin_report(request: web.Request) -> web.Response:
    user = require_moderator(request)
    svc = services(request).reports
    report_id = int(request.match_info["report_id"])
    action = request.match_info["action"]
    form = await request.post()
    # Any length: the service says the limit, and the form comes back with the text.
    account_action = form_text(form, "account_action", 20)
    text = form_draft(form, "text")
    note = form_draft(form, "note")
    try:
        match action:
            case "resolve":
                await svc.resolve(user, report_id, action=account_action, text=text)
            case "reopen":
                await svc.reopen(user, report_id)
            case "note":
                await svc.add_note(user, report_id, note)
            case _:
                await svc.assign_to_self(user, report_id)
    except (ValidationError, PermissionDeniedError) as exc:  # e.g. resolved already
        refused = {
            "action": action,
            "account_action": account_action,
            "text": echo(text),
            "note": echo(note),
            "error": str(exc),
        }
        return await _report_page(
            request, user, report_id, refused=refused, status=http_status(exc)
        )
    return see_other(f"/admin/reports/{report_id}")
