"""Profiles, follow/unfollow, and editing one's own profile."""

from __future__ import annotations

from aiohttp import web

from kizuna.activitypub.vocab import wants_activity_json
from kizuna.errors import ValidationError
from kizuna.server.context import current_user, parse_max_id, services
from kizuna.server.errors import http_status
from kizuna.server.json import activity_response
from kizuna.services.accounts import MAX_FIELDS, ProfileUpdate
from kizuna.web.context import require_user
from kizuna.web.forms import form_file, form_text
from kizuna.web.render import render

routes = web.RouteTableDef()


def split_acct(request: web.Request) -> tuple[str, str]:
    """`/@bob` is local, `/@bob@b.test` remote; our own domain spelled out is local too."""
    username, _, domain = request.match_info["username"].partition("@")
    domain = domain.lower()
    return username, "" if domain == services(request).config.domain else domain


@routes.get("/@{username}")
async def get_profile(request: web.Request) -> web.Response:
    user = current_user(request)
    username, domain = split_acct(request)
    if not domain and wants_activity_json(request.headers.get("Accept", "")):
        return activity_response(await services(request).documents.actor(username))
    profile = await services(request).timelines.profile(
        username, user.account if user else None, domain=domain, max_id=parse_max_id(request)
    )
    title = f"{profile.account.name} (@{profile.account.acct})"
    return render(
        request, "profile.html", {"profile": profile, "page": profile.page, "title": title}
    )


@routes.post("/@{username}/{action:follow|unfollow}")
async def post_follow(request: web.Request) -> web.Response:
    user = require_user(request)
    username, domain = split_acct(request)
    follows = services(request).follows
    if request.match_info["action"] == "follow":
        await follows.follow(user.account, username, domain)
    else:
        await follows.unfollow(user.account, username, domain)
    raise web.HTTPSeeOther(f"/@{request.match_info['username']}")


def _form_fields(values: list[tuple[str, str]]) -> list[dict[str, str]]:
    padded = list(values) + [("", "")] * (MAX_FIELDS - len(values))
    return [{"name": n, "value": v} for n, v in padded[:MAX_FIELDS]]


@routes.get("/settings/profile")
async def get_settings_profile(request: web.Request) -> web.Response:
    account = require_user(request).account
    form = {
        "display_name": account.display_name,
        "note": account.note,
        "locked": account.locked,
        "fields": _form_fields([(f["name"], f["value"]) for f in account.fields or []]),
    }
    return render(request, "settings_profile.html", {"form": form, "error": None})


@routes.post("/settings/profile")
async def post_settings_profile(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await request.post()
    fields = [
        (form_text(form, f"field_name_{i}", 1000), form_text(form, f"field_value_{i}", 1000))
        for i in range(MAX_FIELDS)
    ]
    update = ProfileUpdate(
        display_name=form_text(form, "display_name", 1000),
        note=form_text(form, "note", 5000),
        locked=form_text(form, "locked", 10) == "on",
        fields=fields,
        avatar=form_file(form, "avatar"),
        header=form_file(form, "header"),
    )
    try:
        await services(request).accounts.update_profile(user.account.id, update)
    except ValidationError as exc:
        values = {
            "display_name": update.display_name,
            "note": update.note,
            "locked": update.locked,
            "fields": _form_fields(fields),
        }
        context = {"form": values, "error": str(exc)}
        return render(request, "settings_profile.html", context, status=http_status(exc))
    raise web.HTTPSeeOther("/settings/profile?saved=1")


@routes.get("/follow_requests")
async def get_follow_requests(request: web.Request) -> web.Response:
    user = require_user(request)
    pending = await services(request).follows.requests(user.account)
    return render(request, "follow_requests.html", {"pending": pending, "title": "Follow requests"})


@routes.post("/follow_requests/{account_id:[0-9]{1,19}}/{action:accept|reject}")
async def post_follow_request(request: web.Request) -> web.Response:
    user = require_user(request)
    await services(request).follows.decide(
        user.account,
        int(request.match_info["account_id"]),
        accept=request.match_info["action"] == "accept",
    )
    raise web.HTTPSeeOther("/follow_requests")
