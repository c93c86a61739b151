"""Domain policy administration (admins only), and the public list at /about."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kizuna.errors import NotFoundError, ValidationError
from kizuna.federation.blocklist_csv import BlocklistError, parse_blocklist
from kizuna.server.context import current_user, services
from kizuna.server.errors import http_status
from kizuna.services.blocklist_subscriptions import MAX_REFRESH_HOURS
from kizuna.services.domain_policy import (
    MAX_PRIVATE_COMMENT,
    MAX_PUBLIC_COMMENT,
    ImportReport,
    PolicyValues,
)
from kizuna.storage.states import Severity
from kizuna.web.context import require_admin
from kizuna.web.forms import Form, form_text
from kizuna.web.render import render

routes = web.RouteTableDef()

PAGE = "/admin/domains"
SEVERITY_LABELS: dict[str, str] = {
    Severity.SUSPEND: "Suspend",
    Severity.SILENCE: "Limit",
    Severity.NOOP: "No restriction",
}
EMPTY_FORM: dict[str, Any] = {
    "domain": "",
    "severity": Severity.SUSPEND,
    "reject_media": False,
    "reject_reports": False,
    "obfuscate": False,
    "public_comment": "",
    "private_comment": "",
}


async def _page(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
    report: ImportReport | None = None,
    import_error: str | None = None,
    applied: Any = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    svc = services(request)
    policy = svc.domain_policy
    context = {
        "policies": await policy.policies(),
        "allowed": await policy.allowed(),
        "mode": await policy.mode(),
        "visibility": await policy.visibility(),
        "subscriptions": await svc.blocklists.views(),
        "form": form or EMPTY_FORM,
        "error": error,
        "report": report,
        "import_error": import_error,
        "applied": applied,
        # What a refused small form held (allow-list, subscription, pasted list), typed again.
        "typed": typed or {},
        "severities": SEVERITY_LABELS,
        "title": "Federation policy",
    }
    return render(request, "admin_domains.html", context, status=status)


def _checked(form: Form, name: str) -> bool:
    return form_text(form, name, 10) == "on"


def _policy_form(form: Form) -> dict[str, Any]:
    return {
        "domain": form_text(form, "domain", 300).strip(),
        "severity": form_text(form, "severity", 16) or Severity.SUSPEND,
        "reject_media": _checked(form, "reject_media"),
        "reject_reports": _checked(form, "reject_reports"),
        "obfuscate": _checked(form, "obfuscate"),
        "public_comment": form_text(form, "public_comment", MAX_PUBLIC_COMMENT * 2).strip(),
        "private_comment": form_text(form, "private_comment", MAX_PRIVATE_COMMENT * 2).strip(),
    }


def _values(fields: dict[str, Any]) -> PolicyValues:
    return PolicyValues(**{k: v for k, v in fields.items() if k != "domain"})


async def _act(
    request: web.Request,
    action: Callable[[int], Awaitable[object]],
    typed: dict[str, str] | None = None,
) -> web.Response:
    """Run one admin change; a refusal is shown on the page with what was `typed` in the
    form again, success goes back to it."""
    user = require_admin(request)
    try:
        await action(user.account_id)
    except (ValidationError, NotFoundError) as exc:
        return await _page(request, error=str(exc), status=http_status(exc), typed=typed)
    raise web.HTTPSeeOther(PAGE)


@routes.get(PAGE)
async def get_admin_domains(request: web.Request) -> web.Response:
    require_admin(request)
    form = dict(EMPTY_FORM)
    wanted = request.query.get("domain", "")[:300]
    if wanted:
        try:
            current = await services(request).domain_policy.get(wanted)
        except ValidationError:
            current = None
        form["domain"] = wanted
        if current is not None:
            form.update(current.as_dict())
    return await _page(request, form=form)


@routes.post(f"{PAGE}/preview")
async def post_admin_domain_preview(request: web.Request) -> web.Response:
    """The dry run: what the policy would cut, with the button that confirms it."""
    require_admin(request)
    fields = _policy_form(await request.post())
    try:
        preview = await services(request).domain_policy.preview(
            fields["domain"], fields["severity"]
        )
    except ValidationError as exc:
        return await _page(request, error=str(exc), status=http_status(exc), form=fields)
    fields["domain"] = preview.domain
    context = {
        "preview": preview,
        "form": fields,
        "severities": SEVERITY_LABELS,
        "title": f"Confirm: {SEVERITY_LABELS[preview.severity].lower()} {preview.domain}",
    }
    return render(request, "admin_domain_preview.html", context)


@routes.post(PAGE)
async def post_admin_domain(request: web.Request) -> web.Response:
    user = require_admin(request)
    fields = _policy_form(await request.post())
    try:
        await services(request).domain_policy.set_policy(
            user.account_id, fields["domain"], _values(fields)
        )
    except ValidationError as exc:
        return await _page(request, error=str(exc), status=http_status(exc), form=fields)
    raise web.HTTPSeeOther(PAGE)


@routes.post(f"{PAGE}/remove")
async def post_admin_domain_remove(request: web.Request) -> web.Response:
    form = await request.post()
    domain = form_text(form, "domain", 300)
    reason = form_text(form, "reason", MAX_PRIVATE_COMMENT).strip()
    remove = services(request).domain_policy.remove
    return await _act(request, lambda admin: remove(admin, domain, reason=reason))


@routes.post(f"{PAGE}/mode")
async def post_admin_domain_mode(request: web.Request) -> web.Response:
    mode = form_text(await request.post(), "mode", 16)
    set_mode = services(request).domain_policy.set_mode
    return await _act(request, lambda admin: set_mode(admin, mode))


@routes.post(f"{PAGE}/allow")
async def post_admin_domain_allow(request: web.Request) -> web.Response:
    form = await request.post()
    domain = form_text(form, "domain", 300)
    comment = form_text(form, "comment", MAX_PRIVATE_COMMENT)
    allow = services(request).domain_policy.allow
    typed = {"allow_domain": domain, "allow_comment": comment}
    return await _act(request, lambda admin: allow(admin, domain, comment), typed)


@routes.post(f"{PAGE}/disallow")
async def post_admin_domain_disallow(request: web.Request) -> web.Response:
    domain = form_text(await request.post(), "domain", 300)
    disallow = services(request).domain_policy.disallow
    return await _act(request, lambda admin: disallow(admin, domain))


@routes.post(f"{PAGE}/visibility")
async def post_admin_domain_visibility(request: web.Request) -> web.Response:
    value = form_text(await request.post(), "visibility", 16)
    set_visibility = services(request).domain_policy.set_visibility
    return await _act(request, lambda admin: set_visibility(admin, value))


@routes.post(f"{PAGE}/import")
async def post_admin_domain_import(request: web.Request) -> web.Response:
    """A Mastodon CSV, uploaded or pasted: row errors are listed, the good rows applied."""
    user = require_admin(request)
    form = await request.post()
    upload = form.get("file")
    data: bytes | str = ""
    source = "pasted text"
    if isinstance(upload, web.FileField):
        data = upload.file.read()
        source = upload.filename or "an uploaded file"
    if not data:
        data = form_text(form, "text", 8 * 1024 * 1024)
        source = "pasted text"
    if not data.strip():
        return await _page(request, import_error="choose a CSV file or paste a list", status=422)
    try:
        parsed = parse_blocklist(data)
    except BlocklistError as exc:  # a pasted list comes back to be corrected
        pasted = {"import_text": data} if isinstance(data, str) else {}
        return await _page(request, import_error=str(exc), status=422, typed=pasted)
    report = await services(request).domain_policy.import_blocklist(
        user.account_id, parsed, source=source
    )
    return await _page(request, report=report)


@routes.get(f"{PAGE}/export.csv")
async def get_admin_domain_export(request: web.Request) -> web.Response:
    require_admin(request)
    body = await services(request).domain_policy.export_csv()
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="domain_blocks.csv"'},
    )


@routes.post("/admin/blocklists")
async def post_admin_blocklist(request: web.Request) -> web.Response:
    form = await request.post()
    url = form_text(form, "url", 2100)
    hours_text = form_text(form, "refresh_hours", 6).strip() or "24"
    typed = {"list_url": url, "list_hours": hours_text}
    if not hours_text.isdigit():
        error = f"refresh every 1 to {MAX_REFRESH_HOURS} hours"
        return await _page(request, error=error, status=422, typed=typed)
    subscribe = services(request).blocklists.subscribe
    hours = int(hours_text)
    return await _act(request, lambda admin: subscribe(admin, url, refresh_hours=hours), typed)


@routes.post("/admin/blocklists/{sub_id:[0-9]{1,19}}/{action:refresh|apply|dismiss|remove}")
async def post_admin_blocklist_action(request: web.Request) -> web.Response:
    user = require_admin(request)
    blocklists = services(request).blocklists
    sub_id = int(request.match_info["sub_id"])
    action = request.match_info["action"]
    try:
        if action == "apply":
            applied = await blocklists.apply(user.account_id, sub_id)
            return await _page(request, applied=applied)
        if action == "refresh":
            await blocklists.refresh(sub_id)
        elif action == "dismiss":
            await blocklists.dismiss(user.account_id, sub_id)
        else:
            await blocklists.unsubscribe(user.account_id, sub_id)
    except (ValidationError, NotFoundError) as exc:
        return await _page(request, error=str(exc), status=http_status(exc))
    raise web.HTTPSeeOther(PAGE)


# --- public ----------------------------------------------------------------------------------


@routes.get("/about")
async def get_about(request: web.Request) -> web.Response:
    svc = services(request)
    context = {
        "site": await svc.settings.site(),
        "blocks": await svc.domain_policy.public_list(signed_in=current_user(request) is not None),
        "public_csv": await svc.domain_policy.visibility() == "everyone",
        "severities": {Severity.SUSPEND: "Suspended", Severity.SILENCE: "Limited"},
        "title": "About",
    }
    return render(request, "about.html", context)


@routes.get("/about/domain_blocks.csv")
async def get_about_domain_blocks(request: web.Request) -> web.Response:
    """For other servers to subscribe to; only where the admin made the list public."""
    body = await services(request).domain_policy.public_csv()
    if body is None:
        raise web.HTTPNotFound(text="this server does not publish its moderated servers")
    return web.Response(text=body, content_type="text/csv", charset="utf-8")
