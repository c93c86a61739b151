"""The home feed as JSON: `GET /api/timelines/home`, Mastodon's Status fields where they exist.

Logged in by the web UI's session cookie (no OAuth tokens yet). Only the chronological stream:
the community posts the web page inserts (the mixi2 feed rule) have no place in a list that
Mastodon-style clients page by `max_id` alone. Emoji reactions come as `reactions`, the way
Pleroma sends its `emoji_reactions`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from kizuna.activitypub.ids import media_url
from kizuna.server.context import current_user, parse_max_id, services
from kizuna.server.json import json_response
from kizuna.services.timelines import Page
from kizuna.storage.interactions import PostStats
from kizuna.storage.models import Account, Post

routes = web.RouteTableDef()

DEFAULT_LIMIT = 20  # as Mastodon
MAX_LIMIT = 40

JsonObject = dict[str, Any]


@routes.get("/api/timelines/home")
async def get_home_timeline(request: web.Request) -> web.Response:
    user = current_user(request)
    if user is None:  # json_error_middleware answers in JSON under /api/
        raise web.HTTPUnauthorized(text="log in first: this feed is read with the session cookie")
    limit = parse_limit(request)
    svc = services(request)
    page = await svc.timelines.home(
        user.account, max_id=parse_max_id(request), every=0, limit=limit
    )
    response = json_response(statuses_json(page, svc.config.base_url))
    if page.next_max_id is not None:
        older = request.url.with_query({"max_id": str(page.next_max_id), "limit": str(limit)})
        response.headers["Link"] = f'<{older}>; rel="next"'
    return response


def parse_limit(request: web.Request) -> int:
    raw = request.query.get("limit", "")
    if raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise web.HTTPBadRequest(text=f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


# --- Status JSON (pure: the page and the instance's base URL in, plain data out) -----------


def statuses_json(page: Page, base: str) -> list[JsonObject]:
    return [status_json(post, page, base) for post in page.posts]


def status_json(post: Post, page: Page, base: str) -> JsonObject:
    """A boost is a status of its own whose `reblog` is the boosted one (as in Mastodon); the
    counts and the viewer's state belong to the boosted post."""
    if post.reblog_of is None:
        return _status(post, page, base, reblog=None)
    inner = _status(post.reblog_of, page, base, reblog=None)
    return _status(post, page, base, reblog=inner) | {
        "content": "",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "reactions": [],
        "favourited": inner["favourited"],
        "reblogged": inner["reblogged"],
    }


def _status(post: Post, page: Page, base: str, *, reblog: JsonObject | None) -> JsonObject:
    stats = page.stats.get(post.id) or PostStats()
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": post.url,
        "created_at": _iso(post.created_at),
        "edited_at": _iso(post.updated_at) if post.updated_at else None,
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "content": post.content_html,  # sanitised when it was stored
        "spoiler_text": post.summary,
        "sensitive": post.sensitive or bool(post.summary),
        "visibility": post.visibility,
        "language": post.language,
        "account": account_json(post.account, base),
        "replies_count": stats.replies,
        "reblogs_count": stats.boosts,
        "favourites_count": stats.likes,
        "favourited": stats.liked,
        "reblogged": stats.boosted,
        "reblog": reblog,
        "reactions": [
            {"name": r.name, "count": r.count, "me": r.me, "url": _absolute(base, r.url)}
            for r in page.reactions.get(post.id, [])
        ],
    }


def account_json(account: Account, base: str) -> JsonObject:
    avatar = media_url(base, account.avatar_path) if account.avatar_path else None
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "url": account.url or account.uri,
        "avatar": avatar or account.avatar_remote_url,
    }


def _absolute(base: str, path: str | None) -> str | None:
    return f"{base}{path}" if path and path.startswith("/") else path


def _iso(moment: datetime) -> str:
    """Mastodon's form: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
