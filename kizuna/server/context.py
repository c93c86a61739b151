"""Typed app- and request-scoped values every face reads: the services, and who is asking."""

from __future__ import annotations

from aiohttp import web

from kizuna.container import Services
from kizuna.storage.models import User

services_key = web.AppKey("services", Services)
user_key = web.RequestKey("user", User)


def services(request: web.Request) -> Services:
    return request.app[services_key]


def current_user(request: web.Request) -> User | None:
    user: User | None = request.get(user_key)
    return user


def parse_max_id(request: web.Request) -> int | None:
    raw = request.query.get("max_id")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise web.HTTPBadRequest(text="max_id must be a post id")
    return int(raw)
