"""Finding people: local accounts by name, remote ones by handle or URL."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from kizuna.errors import KizunaError
from kizuna.server.context import services
from kizuna.web.context import require_user
from kizuna.web.render import render

routes = web.RouteTableDef()


def _is_remote_query(query: str) -> bool:
    bare = query.removeprefix("acct:").lstrip("@")
    return query.startswith(("https://", "http://")) or "@" in bare


@routes.get("/search")
async def get_search(request: web.Request) -> web.Response:
    require_user(request)  # remote lookups cost other servers requests: members only
    svc = services(request)
    query = request.query.get("q", "").strip()[:300]
    context: dict[str, object] = {"query": query, "accounts": [], "error": None, "title": "Search"}
    if not query:
        return render(request, "search.html", context)
    if _is_remote_query(query):
        try:
            account = await svc.remote_accounts.resolve(query)
        except (KizunaError, ValueError) as exc:
            context["error"] = f"Could not find {query}: {exc}"
            return render(request, "search.html", context, status=404)
        raise web.HTTPSeeOther(f"/@{account.acct}")
    context["accounts"] = await svc.accounts.search(query.lstrip("@"))
    return render(request, "search.html", context)


@routes.get("/authorize_interaction")
async def get_authorize_interaction(request: web.Request) -> web.Response:
    # The WebFinger subscribe template: a remote "follow" button lands here with ?uri=.
    raise web.HTTPSeeOther(f"/search?q={quote(request.query.get('uri', '')[:2000], safe='')}")
