"""Communities in the browser: the directory, creating one, its page, joining, posting and
moderating. `/c/SLUG` is also the Group actor's id, so it serves ActivityPub JSON to peers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kizuna.activitypub.text import MAX_POST_CHARS
from kizuna.activitypub.vocab import wants_activity_json
from kizuna.errors import KizunaError, NotFoundError, PermissionDeniedError, ValidationError
from kizuna.server.context import current_user, parse_max_id, services
from kizuna.server.errors import http_status
from kizuna.server.json import activity_response
from kizuna.server.rate_limits import take
from kizuna.services.communities import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_RULES,
    CommunitySettings,
    CommunityView,
    NewCommunity,
    community_path,
    split_ref,
)
from kizuna.storage.models import Account, User
from kizuna.storage.states import CommunityRank
from kizuna.web.context import require_user
from kizuna.web.forms import Form, echo, form_draft, form_file, form_text
from kizuna.web.render import render

routes = web.RouteTableDef()

REF = "{ref:[^/{}]{1,300}}"
ID = "[0-9]{1,19}"
LOG_ACTIONS = {
    "remove_post": "Removed a post",
    "ban": "Banned",
    "unban": "Lifted the ban on",
    "approve": "Approved the join request of",
    "reject": "Rejected the join request of",
    "pin": "Pinned a post by",
    "unpin": "Unpinned a post by",
    "edit": "Changed the community's settings",
    "add_moderator": "Made moderator",
    "remove_moderator": "Removed as moderator",
}


def _ref(request: web.Request) -> str:
    return request.match_info["ref"]


def _viewer(request: web.Request) -> Account | None:
    user = current_user(request)
    return user.account if user else None


def _flag(form: Form, name: str) -> bool:
    value = form_text(form, name, 10)
    if value not in ("0", "1"):
        raise web.HTTPBadRequest(text=f"the field {name!r} must be 0 or 1")
    return value == "1"


# -- directory, finding, creating ---------------------------------------------------------


async def _directory(
    request: web.Request, *, find: str = "", error: str | None = None, status: int = 200
) -> web.Response:
    svc = services(request)
    user = current_user(request)
    query = request.query.get("q", "").strip()[:100] if not find else ""
    context = {
        "title": "Communities",
        "query": query,
        "find": find,
        "error": error,
        "entries": await svc.communities.directory(query),
        "joined": await svc.communities.joined(user.account) if user else [],
    }
    return render(request, "communities.html", context, status=status)


@routes.get("/communities")
async def get_communities(request: web.Request) -> web.Response:
    return await _directory(request)


@routes.get("/communities/find")
async def get_find_community(request: web.Request) -> web.Response:
    require_user(request)  # a remote lookup costs another server requests: members only
    query = request.query.get("q", "").strip()[:300]
    if not query:
        raise web.HTTPSeeOther("/communities")
    try:
        group = await services(request).communities.find(query)
    except (KizunaError, ValueError) as exc:
        return await _directory(
            request, find=query, error=f"Could not find {query}: {exc}", status=404
        )
    raise web.HTTPSeeOther(community_path(group))


def _new_form(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "slug": "",
        "name": "",
        "description": "",
        "rules": "",
        "approval_required": False,
        "posting_restricted": False,
        **(values or {}),
    }


def _new_context(
    form: dict[str, Any], error: str | None, field: str | None, *, edit: str | None = None
) -> dict[str, Any]:
    """The create form, or with `edit` (the community's path) its settings form."""
    limits = {"name": MAX_NAME, "description": MAX_DESCRIPTION, "rules": MAX_RULES}
    return {
        "title": "Community settings" if edit else "New community",
        "action": f"{edit}/settings" if edit else "/communities/new",
        "editing": edit is not None,
        "form": form,
        "error": error,
        "error_field": field,
        "limits": limits,
    }


@routes.get("/communities/new")
async def get_new_community(request: web.Request) -> web.Response:
    require_user(request)
    return render(request, "community_new.html", _new_context(_new_form(), None, None))


def _settings_values(form: Form) -> dict[str, Any]:
    return {
        "name": form_text(form, "name", 1000),
        "description": form_text(form, "description", 10_000),
        "rules": form_text(form, "rules", 20_000),
        "approval_required": form_text(form, "approval_required", 10) == "on",
        "posting_restricted": form_text(form, "posting_restricted", 10) == "on",
    }


@routes.post("/communities/new")
async def post_new_community(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await request.post()
    values = _new_form({"slug": form_text(form, "slug", 100), **_settings_values(form)})
    new = NewCommunity(**values, icon=form_file(form, "icon"), banner=form_file(form, "banner"))
    try:
        group = await services(request).communities.create(user.account, new)
    except ValidationError as exc:
        context = _new_context(values, str(exc), exc.field)
        return render(request, "community_new.html", context, status=http_status(exc))
    raise web.HTTPSeeOther(community_path(group))


# -- a community's page, joining, posting -------------------------------------------------


async def _community_page(
    request: web.Request,
    view: CommunityView,
    *,
    error: str | None = None,
    draft: str = "",
    removal: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    viewer = _viewer(request)
    pinned_ids = {p.id for p in view.pinned}
    threads = [p for p in view.page.posts if p.id not in pinned_ids]
    stats = dict(view.page.stats)
    if view.pinned:
        stats.update(await services(request).interactions.stats(view.pinned, viewer))
    reactions = await services(request).reactions.summary([*view.pinned, *threads], viewer)
    can_moderate = view.is_local and view.viewer_role is not None
    member = view.viewer_state == "member" or view.viewer_role is not None
    context = {
        "title": f"{view.group.name} (!{view.group.acct})",
        "view": view,
        "group": view.group,
        "threads": threads,
        "stats": stats,
        "reactions": reactions,
        "can_moderate": can_moderate,
        "can_post": member
        and view.viewer_state != "banned"
        and (view.viewer_role is not None or not view.posting_restricted),
        "is_member": member,
        "max_chars": MAX_POST_CHARS,
        "error": error,
        "draft": draft,
        "removal": removal,  # a refused removal: its post, the reason typed, why
        # The newest threads go live from the moment they were read; older pages stay still.
        "live_since": None if "max_id" in request.query else services(request).live.now_cursor(),
    }
    response = render(request, "community.html", context, status=status)
    response.headers["Vary"] = "Accept"  # the same URL is the Group actor for peers
    return response


@routes.get(f"/c/{REF}")
async def get_community(request: web.Request) -> web.Response:
    svc = services(request)
    ref = _ref(request)
    name, domain = split_ref(ref)
    local = domain in ("", svc.config.domain)
    if local and wants_activity_json(request.headers.get("Accept", "")):
        return activity_response(await svc.documents.group_actor(name))
    view = await svc.communities.view(ref, _viewer(request), max_id=parse_max_id(request))
    return await _community_page(request, view)


@routes.post(f"/c/{REF}/{{action:join|leave}}")
async def post_membership(request: web.Request) -> web.Response:
    user = require_user(request)
    communities = services(request).communities
    group = await communities.group(_ref(request))
    if request.match_info["action"] == "join":
        await communities.join(user.account, _ref(request))
    else:
        await communities.leave(user.account, _ref(request))
    raise web.HTTPSeeOther(community_path(group))


@routes.post(f"/c/{REF}/posts")
async def post_community_post(request: web.Request) -> web.Response:
    user = require_user(request)
    svc = services(request)
    form = await request.post()
    content = form_draft(form, "content")
    group = await svc.communities.group(_ref(request))
    if (refused := take(request, "post", str(user.account_id))) is not None:
        message, seconds = refused  # posting too fast: the form again, with the text
        view = await svc.communities.view(_ref(request), user.account)
        response = await _community_page(
            request, view, error=message, draft=echo(content), status=429
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    try:
        post = await svc.communities.post(user.account, _ref(request), content)
    except (ValidationError, PermissionDeniedError) as exc:
        view = await svc.communities.view(_ref(request), user.account)
        return await _community_page(
            request, view, error=str(exc), draft=echo(content), status=http_status(exc)
        )
    raise web.HTTPSeeOther(f"{community_path(group)}#post-{post.id}")


# -- moderation ---------------------------------------------------------------------------


async def _moderated(request: web.Request) -> tuple[User, Account]:
    """The logged-in user and the local community they moderate, or 403/404."""
    user = require_user(request)
    group = await services(request).communities.group(_ref(request))
    if not group.is_local:
        raise web.HTTPNotFound(text="remote communities are moderated on their own server")
    return user, group


@routes.get(f"/c/{REF}/moderation")
async def get_moderation(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    return await _moderation_page(request, user, group)


async def _moderation_page(
    request: web.Request,
    user: User,
    group: Account,
    *,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    """The moderation page; after a refused ban (`refused`: whom, the reason typed, why)
    with that member's ban form shown again holding the reason, and the error."""
    svc = services(request)
    view = await svc.communities.view(_ref(request), user.account)
    if view.viewer_role is None:
        raise PermissionDeniedError(f"only the moderators of !{group.acct} may see this page")
    roles = {account.id: role for account, role in view.moderators}
    context = {
        "title": f"Moderation of !{group.acct}",
        "view": view,
        "group": group,
        "roles": roles,
        "is_owner": view.viewer_role == CommunityRank.OWNER,
        "pending": await svc.follows.requests(group),
        "members": await svc.communities.members(_ref(request)),
        "bans": await services(request).communities.bans(group),
        "log": await svc.communities.moderation_log(_ref(request)),
        "log_actions": LOG_ACTIONS,
        "refused": refused,
    }
    return render(request, "community_moderation.html", context, status=status)


@routes.get(f"/c/{REF}/settings")
async def get_community_settings(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    view = await services(request).communities.view(_ref(request), user.account)
    if view.viewer_role is None:
        raise PermissionDeniedError(f"only the moderators of !{group.acct} may change it")
    values = _new_form(
        {
            "slug": group.username,
            "name": group.display_name,
            "description": group.note,
            "rules": view.rules,
            "approval_required": group.locked,
            "posting_restricted": view.posting_restricted,
        }
    )
    context = _new_context(values, None, None, edit=community_path(group))
    return render(request, "community_new.html", context)


@routes.post(f"/c/{REF}/settings")
async def post_community_settings(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    form = await request.post()
    values = _settings_values(form)
    settings = CommunitySettings(
        **values, icon=form_file(form, "icon"), banner=form_file(form, "banner")
    )
    try:
        await services(request).communities.update(group.id, user.account, settings)
    except ValidationError as exc:
        context = _new_context(
            _new_form({"slug": group.username, **values}),
            str(exc),
            exc.field,
            edit=community_path(group),
        )
        return render(request, "community_new.html", context, status=http_status(exc))
    raise web.HTTPSeeOther(community_path(group))


def _moderation_path(group: Account) -> str:
    return f"{community_path(group)}/moderation"


@routes.post(f"/c/{REF}/requests/{{account_id:{ID}}}/{{action:approve|reject}}")
async def post_join_request(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    await services(request).moderation.decide(
        group.id,
        user.account,
        int(request.match_info["account_id"]),
        accept=request.match_info["action"] == "approve",
    )
    raise web.HTTPSeeOther(_moderation_path(group))


@routes.post(f"/c/{REF}/members/{{account_id:{ID}}}/{{action:ban|unban}}")
async def post_ban(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    moderation = services(request).moderation
    account_id = int(request.match_info["account_id"])
    action = request.match_info["action"]
    form = await request.post()
    reason = form_draft(form, "reason")  # any length: the service says the limit
    try:
        if action == "ban":
            await moderation.ban(group.id, user.account, account_id, reason=reason)
        else:
            await moderation.unban(group.id, user.account, account_id)
    except (ValidationError, NotFoundError) as exc:  # a moderator, a reason too long, unbanned
        refused = {"action": action, "account_id": account_id, "reason": echo(reason)}
        return await _moderation_page(
            request, user, group, refused={**refused, "error": str(exc)}, status=http_status(exc)
        )
    raise web.HTTPSeeOther(_moderation_path(group))


@routes.post(f"/c/{REF}/members/{{account_id:{ID}}}/moderator")
async def post_appoint(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    form = await request.post()
    account_id = int(request.match_info["account_id"])
    try:
        await services(request).moderation.appoint(
            group.id, user.account, account_id, moderator=_flag(form, "on")
        )
    except ValidationError as exc:  # not a local member
        refused = {"action": "moderator", "account_id": account_id, "error": str(exc)}
        return await _moderation_page(
            request, user, group, refused=refused, status=http_status(exc)
        )
    raise web.HTTPSeeOther(_moderation_path(group))


@routes.post(f"/c/{REF}/posts/{{post_id:{ID}}}/remove")
async def post_remove_post(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    svc = services(request)
    form = await request.post()
    post_id = int(request.match_info["post_id"])
    reason = form_draft(form, "reason")  # any length: the service says the limit
    try:
        await svc.moderation.remove_post(group.id, user.account, post_id, reason=reason)
    except ValidationError as exc:  # the reason is too long
        view = await svc.communities.view(_ref(request), user.account)
        removal = {"post_id": post_id, "reason": echo(reason), "error": str(exc)}
        return await _community_page(request, view, removal=removal, status=http_status(exc))
    raise web.HTTPSeeOther(community_path(group))


@routes.post(f"/c/{REF}/posts/{{post_id:{ID}}}/pin")
async def post_pin_post(request: web.Request) -> web.Response:
    user, group = await _moderated(request)
    form = await request.post()
    post_id = int(request.match_info["post_id"])
    await services(request).moderation.pin(
        group.id, user.account, post_id, pinned=_flag(form, "pinned")
    )
    raise web.HTTPSeeOther(f"{community_path(group)}#post-{post_id}")
