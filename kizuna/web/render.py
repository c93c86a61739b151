"""Jinja2 rendering. Autoescape is on; only sanitised HTML (post bodies, bios) is marked safe."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup

from kizuna.activitypub.emoji import emojify_text
from kizuna.services.reactions import PALETTE, mastodon_view
from kizuna.web.context import csrf_key, jinja_key, services_key, user_key

STATIC_DIR = resources.files("kizuna") / "static"


def _static_version() -> str:
    digest = hashlib.sha256()
    for name in sorted(p.name for p in STATIC_DIR.iterdir() if p.is_file()):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:10]


def _ago(value: datetime, now: datetime | None = None) -> str:
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 60:
        return "now"
    for size, unit in ((86400 * 7, None), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return value.strftime("%Y-%m-%d") if unit is None else f"{seconds // size}{unit}"
    return "now"


@jinja2.pass_context
def _display_name(context: jinja2.runtime.Context, account: Any) -> Markup:
    """An account's name, escaped, with our custom emoji drawn for local accounts (a remote
    name's `:shortcode:` is its server's emoji, which we do not know by name: it stays text)."""
    request = context.get("request")
    sources: Mapping[str, str] = {}
    if account.domain == "" and isinstance(request, web.Request):
        sources = request.app[services_key].custom_emoji.local_sources()
    return Markup(emojify_text(account.name, sources))  # escaped by emojify_text


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kizuna", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = _ago
    env.filters["display_name"] = _display_name
    env.filters["iso"] = lambda d: d.astimezone(UTC).isoformat(timespec="seconds")
    env.globals["static_version"] = _static_version()
    # The reaction picker's emoji, each with what Mastodon readers will see of it.
    env.globals["reaction_palette"] = tuple((e, mastodon_view(e)) for e in PALETTE)
    return env


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    env = request.app[jinja_key]
    svc = request.app[services_key]
    page = env.get_template(template).render(
        request=request,
        user=request.get(user_key),
        csrf_token=request.get(csrf_key, ""),
        domain=svc.config.domain,
        **(context or {}),
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
