"""Emoji reactions in the browser: giving and taking one back, the picker's search page
(works without JavaScript), and a post's reactions as JSON (Akkoma's and Misskey's shape)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from kizuna.server.context import current_user, services
from kizuna.server.errors import wants_json
from kizuna.server.json import json_response
from kizuna.services.custom_emoji import image_src
from kizuna.services.reactions import ReactionLimitError, mastodon_view
from kizuna.storage.models import CustomEmoji
from kizuna.web import emoji_search
from kizuna.web.context import back_to, require_user
from kizuna.web.forms import form_text
from kizuna.web.notices import with_notice
from kizuna.web.render import render

routes = web.RouteTableDef()

POST_ID = "{post_id:[0-9]{1,19}}"
MAX_EMOJI_FIELD = 300  # a :shortcode: is at most 66 characters, an emoji sequence ~30
MAX_QUERY = 64
RESULTS = 60
LOCAL_ONLY_VIEW = "only shown on this server (an instance-only emoji)"


def _back(request: web.Request, post_id: int) -> str:
    """Back to the page the button was on; from the picker's search page, to the post."""
    return back_to(request, f"/posts/{post_id}", not_under=("/emoji/",))


@routes.post(f"/posts/{POST_ID}/{{action:react|unreact}}")
async def post_reaction(request: web.Request) -> web.Response:
    """Give (`react`) or take back (`unreact`) the reaction `emoji` ("" is a plain like)."""
    user = require_user(request)
    post_id = int(request.match_info["post_id"])
    emoji = form_text(await request.post(), "emoji", MAX_EMOJI_FIELD)
    reactions = services(request).reactions
    if request.match_info["action"] == "react":
        try:
            await reactions.react(user.account, post_id, emoji)
        except ReactionLimitError:
            if wants_json(request):
                raise  # a JSON error for scripts, with the same words
            # Not a page of its own: back where the button was, at the post, saying why.
            back = with_notice(_back(request, post_id), "reactions", anchor=f"post-{post_id}")
            raise web.HTTPSeeOther(back) from None
    else:
        await reactions.unreact(user.account, post_id, emoji)
    raise web.HTTPSeeOther(_back(request, post_id))


@dataclass(frozen=True, slots=True)
class EmojiChoice:
    emoji: str  # what the button sends: "👍" or ":blobcat:"
    name: str  # "thumbs up sign", or the shortcode's category
    title: str  # what Mastodon readers will see of it
    url: str | None = None  # a custom emoji's image


def _custom_choice(emoji: CustomEmoji) -> EmojiChoice:
    code = f":{emoji.shortcode}:"
    title = LOCAL_ONLY_VIEW if emoji.local_only else mastodon_view(code)
    return EmojiChoice(code, emoji.category, title, image_src(emoji))


@routes.get("/emoji/search")
async def get_emoji_search(request: web.Request) -> web.Response:
    """The picker's search: Unicode emoji by name and our custom emoji by shortcode or
    category, each a button reacting to `post` (without `post`: a list to look at)."""
    user = require_user(request)
    svc = services(request)
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    raw_post = request.query.get("post", "")
    if raw_post and (not raw_post.isdigit() or len(raw_post) > 19):
        raise web.HTTPBadRequest(text="post must be a post id")
    post = await svc.posts.get_visible(int(raw_post), user.account) if raw_post else None
    shown = post.reblog_of or post if post is not None else None
    mine: set[str] = set()
    if post is not None and shown is not None:
        counts = await svc.reactions.summary([post], user.account)
        mine = {r.name for r in counts.get(shown.id, []) if r.me}
    found = await svc.custom_emoji.search(query, RESULTS)
    context = {
        "title": "Find an emoji",
        "query": query,
        "post": shown,
        "mine": mine,
        "custom": [_custom_choice(e) for e in found if e.image_path],
        "unicode": [
            EmojiChoice(emoji, name, mastodon_view(emoji))
            for emoji, name in emoji_search.search(query, RESULTS)
        ],
    }
    return render(request, "emoji_search.html", context)


@routes.get(f"/api/posts/{POST_ID}/reactions")
async def get_post_reactions(request: web.Request) -> web.Response:
    """`{"emoji_reactions": [{name, count, me, url, accounts}]}`, `me` for the signed-in
    viewer; 404 for a post the viewer may not see. A boost answers for what it boosted."""
    user = current_user(request)
    viewer = user.account if user else None
    svc = services(request)
    post = await svc.posts.get_visible(int(request.match_info["post_id"]), viewer)
    shown = post.reblog_of or post
    counts = await svc.reactions.summary([post], viewer)
    base = svc.config.base_url
    return json_response(
        {
            "emoji_reactions": [
                {
                    "name": r.name,
                    "count": r.count,
                    "me": r.me,
                    "url": f"{base}{r.url}" if r.url else None,
                    "accounts": r.accounts,
                }
                for r in counts.get(shown.id, [])
            ]
        }
    )
