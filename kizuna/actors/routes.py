"""ActivityPub documents by content negotiation: actors, collections, notes."""

from __future__ import annotations

from aiohttp import web

from kizuna.activitypub.errors import SignatureError
from kizuna.activitypub.vocab import wants_activity_json
from kizuna.federation.domains import host_of
from kizuna.federation.signatures import key_id_of
from kizuna.server.context import services
from kizuna.server.json import activity_response

routes = web.RouteTableDef()

STATUS = "/users/{username}/statuses/{post_id:[0-9]{1,19}}"
REACTION = "/users/{username}/reactions/{reaction_id:[0-9]{1,19}}"  # outbox/urls.reaction_url


def _wants_ap(request: web.Request) -> bool:
    return wants_activity_json(request.headers.get("Accept", ""))


async def require_signature(request: web.Request) -> None:
    """Under authorized fetch, objects and collections need a signed GET (actor documents
    stay public so that keys can be discovered, as Mastodon does)."""
    svc = services(request)
    if not await svc.settings.authorized_fetch():
        if "Signature" in request.headers or "Signature-Input" in request.headers:
            # Signed anyway: a suspended server is refused even without authorized fetch.
            try:
                _, key_id = key_id_of(request.headers)
            except SignatureError:
                return  # unreadable: treated as the unsigned request it may as well be
            await svc.inbox.refuse_blocked(host_of(key_id))
        return
    if "Signature" not in request.headers and "Signature-Input" not in request.headers:
        raise SignatureError("this server requires signed requests (authorized fetch)")
    await svc.inbox.verify(
        method=request.method, path_qs=request.raw_path, headers=request.headers, body=None
    )


def _page_number(request: web.Request) -> int | None:
    raw = request.query.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 100_000:
        raise web.HTTPBadRequest(text="page must be a positive number")
    return int(raw)


@routes.get("/users/{username}")
async def get_actor(request: web.Request) -> web.Response:
    username = request.match_info["username"]
    if not _wants_ap(request):
        raise web.HTTPFound(f"/@{username}")
    return activity_response(await services(request).documents.actor(username))


@routes.get("/actor")
async def get_instance_actor(request: web.Request) -> web.Response:
    svc = services(request)
    # Always JSON and never behind authorized fetch: peers need its key to verify our fetches.
    return activity_response(
        await svc.documents.instance_actor(await svc.accounts.instance_actor())
    )


@routes.get("/actor/{which:outbox|followers|following}")
async def get_instance_collection(request: web.Request) -> web.Response:
    await require_signature(request)
    svc = services(request)
    doc = await svc.documents.instance_collection(
        await svc.accounts.instance_actor(),
        request.match_info["which"],
        page=_page_number(request),
    )
    return activity_response(doc)


@routes.get("/users/{username}/collections/tags")
async def get_featured_tags(request: web.Request) -> web.Response:
    await require_signature(request)
    return activity_response(
        await services(request).documents.featured_tags(request.match_info["username"])
    )


@routes.get("/users/{username}/outbox")
async def get_outbox(request: web.Request) -> web.Response:
    await require_signature(request)
    raw_max = request.query.get("max_id", "")
    max_id = int(raw_max) if raw_max.isdigit() and len(raw_max) <= 19 else None
    doc = await services(request).documents.outbox(
        request.match_info["username"], page=request.query.get("page") == "true", max_id=max_id
    )
    return activity_response(doc)


@routes.get("/users/{username}/{which:followers|following}")
async def get_follow_collection(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.follow_collection(
        request.match_info["username"], request.match_info["which"], page=_page_number(request)
    )
    return activity_response(doc)


@routes.get("/users/{username}/collections/featured")
async def get_featured(request: web.Request) -> web.Response:
    await require_signature(request)
    return activity_response(
        await services(request).documents.featured(request.match_info["username"])
    )


@routes.get(STATUS)
async def get_status(request: web.Request) -> web.Response:
    username, post_id = request.match_info["username"], request.match_info["post_id"]
    if not _wants_ap(request):
        raise web.HTTPFound(f"/@{username}/{post_id}")
    await require_signature(request)
    return activity_response(await services(request).documents.note(username, int(post_id)))


@routes.get(STATUS + "/activity")
async def get_status_activity(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.note(
        request.match_info["username"], int(request.match_info["post_id"]), activity=True
    )
    return activity_response(doc)


@routes.get(REACTION + "{undo:(/undo)?}")
async def get_reaction(request: web.Request) -> web.Response:
    """A reaction we sent, or (`…/undo`) the Undo that took it back."""
    await require_signature(request)
    doc = await services(request).documents.reaction_activity(
        request.match_info["username"],
        int(request.match_info["reaction_id"]),
        undo=bool(request.match_info["undo"]),
    )
    return activity_response(doc)


# --- communities (Group actors at /c/SLUG; the actor itself is served by the web route) ---


@routes.get("/c/{slug}/outbox")
async def get_group_outbox(request: web.Request) -> web.Response:
    await require_signature(request)
    raw_max = request.query.get("max_id", "")
    max_id = int(raw_max) if raw_max.isdigit() and len(raw_max) <= 19 else None
    doc = await services(request).documents.outbox(
        request.match_info["slug"],
        page=request.query.get("page") == "true",
        max_id=max_id,
        group=True,
    )
    return activity_response(doc)


@routes.get("/c/{slug}/{which:followers|following}")
async def get_group_follow_collection(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.follow_collection(
        request.match_info["slug"],
        request.match_info["which"],
        page=_page_number(request),
        group=True,
    )
    return activity_response(doc)


@routes.get("/c/{slug}/moderators")
async def get_group_moderators(request: web.Request) -> web.Response:
    await require_signature(request)
    return activity_response(
        await services(request).documents.moderators(request.match_info["slug"])
    )


@routes.get("/c/{slug}/collections/featured")
async def get_group_featured(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.featured(request.match_info["slug"], group=True)
    return activity_response(doc)


@routes.get("/c/{slug}/collections/tags")
async def get_group_featured_tags(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.featured_tags(request.match_info["slug"], group=True)
    return activity_response(doc)


@routes.get(STATUS + "/likes")
async def get_status_likes(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.likes(
        request.match_info["username"], int(request.match_info["post_id"])
    )
    return activity_response(doc)


@routes.get(STATUS + "/reactions")
async def get_status_reactions(request: web.Request) -> web.Response:
    await require_signature(request)
    doc = await services(request).documents.emoji_reactions(
        request.match_info["username"], int(request.match_info["post_id"])
    )
    return activity_response(doc)
