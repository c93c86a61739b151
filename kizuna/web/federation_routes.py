"""/admin/federation: the federation health dashboard, its JSON twin, and queue actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from kizuna.server.context import services
from kizuna.server.json import json_response
from kizuna.services.federation_health import (
    DomainHealth,
    DomainPage,
    InstanceHealth,
    Window,
)
from kizuna.web.context import require_admin
from kizuna.web.render import render

routes = web.RouteTableDef()

DOMAIN = r"{domain:[A-Za-z0-9.:\[\]-]{1,255}}"
ACTIONS = {"retry": "made due now", "purge": "marked failed (purged by admin)"}


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise web.HTTPBadRequest(text="page must be a positive number")
    return int(raw)


async def _health(request: web.Request) -> tuple[InstanceHealth, DomainPage]:
    health = services(request).federation_health
    search = request.query.get("q", "")[:255]
    page = await health.domains(search=search, page=_page_number(request))
    return await health.instance(), page


@routes.get("/admin/federation")
async def get_admin_federation(request: web.Request) -> web.Response:
    require_admin(request)
    instance, page = await _health(request)
    done = request.query.get("done", "")
    count = request.query.get("n", "")
    notice = None
    if done in ACTIONS and count.isdigit():
        plural = "delivery" if count == "1" else "deliveries"
        notice = f"{count} pending {plural} to {page.search} {ACTIONS[done]}."
    context = {
        "instance": instance,
        "page": page,
        "notice": notice,
        "authorized_fetch": await services(request).settings.authorized_fetch(),
        "title": "Federation health",
    }
    return render(request, "admin_federation.html", context)


@routes.get("/admin/federation.json")
async def get_admin_federation_json(request: web.Request) -> web.Response:
    require_admin(request)
    instance, page = await _health(request)
    doc = {
        "instance": _instance_json(instance),
        "domains": [_domain_json(d) for d in page.domains],
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "q": page.search,
    }
    return json_response(doc)


@routes.post(f"/admin/federation/domains/{DOMAIN}/{{action:retry|purge}}")
async def post_admin_federation_action(request: web.Request) -> web.Response:
    user = require_admin(request)
    health = services(request).federation_health
    domain = request.match_info["domain"].lower()
    action = request.match_info["action"]
    if action == "retry":
        count = await health.retry(user.account, domain)
    else:
        count = await health.purge(user.account, domain)
    query = urlencode({"q": domain, "done": action, "n": count})
    raise web.HTTPSeeOther(f"/admin/federation?{query}")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _window_json(window: Window) -> dict[str, Any]:
    return {
        "delivered": window.delivered,
        "failed": window.failed,
        "latency_seconds": window.latency,
        "inbox_rejections": window.rejections,
    }


def _instance_json(instance: InstanceHealth) -> dict[str, Any]:
    queue = instance.queue
    return {
        "queue": {"pending": queue.pending, "due": queue.due, "retrying": queue.retrying},
        "last_hour": _window_json(instance.hour),
        "last_day": _window_json(instance.day),
        "top_rejected_domains": [{"domain": d, "count": n} for d, n in instance.top_rejected],
    }


def _domain_json(d: DomainHealth) -> dict[str, Any]:
    return {
        "domain": d.domain,
        "software": d.software,
        "followers": d.followers,
        "following": d.following,
        "queue": {"pending": d.pending, "retrying": d.retrying},
        "last_success_at": _time(d.last_success_at),
        "last_inbox_at": _time(d.last_inbox_at),
        "last_day": {
            "delivered": d.delivered_day,
            "failed": d.failed_day,
            "failure_rate": d.failure_rate,
            "inbox_rejections": d.rejected_day,
        },
        "circuit": {
            "state": d.circuit,
            "failing_since": _time(d.failing_since),
            "next_probe_at": _time(d.next_probe_at),
        },
        "policy": d.policy or None,
    }
