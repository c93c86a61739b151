"""Typed app- and request-scoped values every face reads: the services, and who is asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from kizuna.storage.models import User

if TYPE_CHECKING:
    # Named for the type checker only: the composition root sits above every face (it builds
    # them), so importing it here at run time would import the faces into this module below them.
    from kizuna.container import Services

services_key: web.AppKey[Services] = web.AppKey("services")
user_key = web.RequestKey("user", User)


def services(request: web.Request) -> Services:
    return request.app[services_key]


def current_user(request: web.Request) -> User | None:
    user: User | None = request.get(user_key)
    return user


def parse_max_id(request: web.Request, name: str = "max_id") -> int | None:
    """A paging cursor from the query (`max_id`, or e.g. the home feed's `cmax_id`)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise web.HTTPBadRequest(text=f"{name} must be a post id")
    return int(raw)
