"""Typed keys and helpers for the web pages' requests (the shared ones are in server/context)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web

from kizuna.server.context import user_key
from kizuna.storage.models import User
from kizuna.web.redirects import local_path

jinja_key = web.AppKey("jinja", jinja2.Environment)
secret_key = web.AppKey("secret", str)

csrf_key = web.RequestKey("csrf_token", str)


def require_user(request: web.Request) -> User:
    user: User | None = request.get(user_key)
    if user is None:
        # Encoded whole: a query of its own (&…) must come back in `next`, not beside it.
        raise web.HTTPSeeOther(f"/login?next={quote(request.rel_url.raw_path_qs, safe='/')}")
    return user


def require_admin(request: web.Request) -> User:
    user = require_user(request)
    if not user.is_admin:
        raise web.HTTPForbidden(text="administrators only")
    return user


def require_moderator(request: web.Request) -> User:
    user = require_user(request)
    if not user.is_moderator:
        raise web.HTTPForbidden(text="moderators and administrators only")
    return user


def see_other(location: str) -> web.Response:
    """A 303 that can still carry cookies (raised HTTPExceptions cannot be returned)."""
    return web.Response(status=303, headers={"Location": location})


def back_to(request: web.Request, fallback: str, *, not_under: tuple[str, ...] = ()) -> str:
    """The page a form was on (from Referer) if it is one of ours, else `fallback`: never an
    open redirect (the path passes the same check as a log-in's `next`)."""
    back = urlsplit(request.headers.get("Referer", ""))
    if back.netloc != request.host:
        return fallback
    path = local_path(back.path + (f"?{back.query}" if back.query else ""))
    if path is None or (not_under and path.startswith(not_under)):
        return fallback
    return path
