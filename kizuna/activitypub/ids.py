"""Every URI and id Kizuna mints (pure): one place, so routes, builders and peers agree.

The shapes are fixed: peers hold the ids we sent (an Accept or Undo names them again, a
reaction is fetched at its id), so a shape here must not change. Mastodon's patterns where
we follow them (`…#follows/1`, `…#accepts/follows/1`, `…/statuses/1#delete`,
`…#updates/<n>`, `…#blocks/1`); Lemmy's `/activities/<kind>/<n>` for a community's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from kizuna.activitypub.vocab import ActorType

# --- actors ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorUrls:
    id: str
    profile: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    featured_tags: str
    shared_inbox: str
    key_id: str


def _actor_urls(base_url: str, actor: str, profile: str) -> ActorUrls:
    return ActorUrls(
        id=actor,
        profile=profile,
        inbox=f"{actor}/inbox",
        outbox=f"{actor}/outbox",
        followers=followers_url(actor),
        following=f"{actor}/following",
        featured=featured_url(actor),
        featured_tags=f"{actor}/collections/tags",
        shared_inbox=f"{base_url}/inbox",
        key_id=key_id(actor),
    )


def user_urls(base_url: str, username: str) -> ActorUrls:
    return _actor_urls(base_url, f"{base_url}/users/{username}", f"{base_url}/@{username}")


def group_urls(base_url: str, slug: str) -> ActorUrls:
    """A community is a Group at /c/SLUG, as Lemmy's; its HTML page is the same URL."""
    actor = f"{base_url}/c/{slug}"
    return _actor_urls(base_url, actor, actor)


def local_group_slug(base_url: str, url: str) -> str | None:
    """SLUG of a URL under one of our communities (`group_urls`), else None."""
    prefix = f"{base_url}/c/"
    return url.removeprefix(prefix).split("/", 1)[0] if url.startswith(prefix) else None


def instance_urls(base_url: str) -> ActorUrls:
    """Mastodon's instance actor lives at /actor (type Application)."""
    return _actor_urls(base_url, f"{base_url}/actor", f"{base_url}/about")


def local_actor_urls(base_url: str, actor_type: ActorType, username: str) -> ActorUrls:
    if actor_type == ActorType.APPLICATION:
        return instance_urls(base_url)
    if actor_type == ActorType.GROUP:
        return group_urls(base_url, username)
    return user_urls(base_url, username)


def key_id(actor_id: str) -> str:
    """An actor's one key, as Mastodon names it."""
    return f"{actor_id}#main-key"


def followers_url(actor_id: str) -> str:
    return f"{actor_id}/followers"


def featured_url(actor_id: str) -> str:
    return f"{actor_id}/collections/featured"


def moderators_url(group_id: str) -> str:
    return f"{group_id}/moderators"


# --- statuses --------------------------------------------------------------------------------


def status_url(base_url: str, username: str, post_id: int) -> str:
    """A post's id; a boost is a post too (its Announce: `status_activity_id`)."""
    return f"{base_url}/users/{username}/statuses/{post_id}"


def status_page_url(base_url: str, username: str, post_id: int) -> str:
    """A post's HTML page (its `url`)."""
    return f"{base_url}/@{username}/{post_id}"


def status_activity_id(status_id: str) -> str:
    """The Create of a post, or the Announce of a boost (served at this URL)."""
    return f"{status_id}/activity"


def likes_url(status_id: str) -> str:
    return f"{status_id}/likes"


def reactions_url(status_id: str) -> str:
    """FEP-c0e0 `emojiReactions` collection."""
    return f"{status_id}/reactions"


def tag_path(tag: str) -> str:
    return f"/tags/{quote(tag, safe='')}"


def tag_url(base_url: str, tag: str) -> str:
    return base_url + tag_path(tag)


def emoji_url(base_url: str, shortcode: str) -> str:
    """One of our custom emoji as an `Emoji` object."""
    return f"{base_url}/emoji/{shortcode}"


def media_path(path: str) -> str:
    """A stored file (avatar, header, emoji image); `path` is relative to the media root."""
    return f"/media/{path}"


def media_url(base_url: str, path: str) -> str:
    return base_url + media_path(path)


# --- activities ------------------------------------------------------------------------------


def follow_id(actor_id: str, n: int) -> str:
    """A Follow (n: its row's id)."""
    return f"{actor_id}#follows/{n}"


def unknown_follow_id(actor_id: str) -> str:
    """Stands in for a remote Follow whose id we never stored, when we answer it."""
    return f"{actor_id}#follows/unknown"


def follow_response_id(actor_id: str, n: int, *, accept: bool) -> str:
    """An Accept or Reject of a follow."""
    return f"{actor_id}#{'accepts' if accept else 'rejects'}/follows/{n}"


def delete_id(object_id: str) -> str:
    """Delete of a post or of an actor."""
    return f"{object_id}#delete"


def update_id(object_id: str, n: int) -> str:
    """Update of a post (n: the edit's epoch seconds) or of an actor (n: a fresh id)."""
    return f"{object_id}#updates/{n}"


def undo_id(activity_id: str) -> str:
    """The Undo of one of our activities (follow, boost, reaction, block)."""
    return f"{activity_id}/undo"


def block_id(actor_id: str, n: int) -> str:
    """A Block (n: its row's id), as Mastodon's BlockSerializer."""
    return f"{actor_id}#blocks/{n}"


def reaction_url(actor_id: str, reaction_id: int) -> str:
    """A local account's reaction (a like or emoji) as an activity others can fetch: a group
    relaying it is believed only as its origin serves it (kizuna/inbox/community.py). Its
    Undo is `undo_id` of it. Older reactions keep their unfetchable `#likes/N` or
    `#reactions/N` fragment ids (their Undo matches the stored id)."""
    return f"{actor_id}/reactions/{reaction_id}"


def status_reaction_id(status_id: str, reaction_id: int) -> str:
    """Stands in, in a post's reactions collection, for a reaction stored without an id."""
    return f"{status_id}#reactions/{reaction_id}"


GroupActivity = Literal["announce", "delete", "block", "undo", "add", "remove"]


def group_activity_id(group_id: str, kind: GroupActivity, n: int) -> str:
    """What one of our communities (or its moderators, in its name) sends, as Lemmy names it."""
    return f"{group_id}/activities/{kind}/{n}"


def flag_id(base_url: str, token: str) -> str:
    """A bare random id on our host (`token`: a uuid4): it tells the receiver nothing about
    the reporter (Mastodon's TagManager#generate_uri_for)."""
    return f"{base_url}/{token}"


def flag_report_uri(flag_id: str, account_id: int) -> str:
    """A received Flag naming several accounts is one report each: the first keeps the
    Flag's id, the others this."""
    return f"{flag_id}#{account_id}"


# --- collection pages ------------------------------------------------------------------------


def outbox_first_page(outbox: str) -> str:
    return f"{outbox}?page=true"


def outbox_last_page(outbox: str) -> str:
    return f"{outbox}?min_id=0&page=true"


def outbox_page(outbox: str, max_id: int | None) -> str:
    """A page's own id. The `next` link reaching it orders its query the other way
    (`outbox_next_page`); both ask for the same page, and both shapes are out there."""
    return outbox_first_page(outbox) + (f"&max_id={max_id}" if max_id else "")


def outbox_next_page(outbox: str, max_id: int) -> str:
    return f"{outbox}?max_id={max_id}&page=true"


def collection_page(collection: str, page: int) -> str:
    """A followers or following page (1-based)."""
    return f"{collection}?page={page}"


# --- discovery -------------------------------------------------------------------------------


def nodeinfo_url(base_url: str, version: str) -> str:
    return f"{base_url}/nodeinfo/{version}"


def webfinger_template(base_url: str) -> str:
    """host-meta's LRDD template (`{uri}` is filled in by the other server)."""
    return f"{base_url.rstrip('/')}/.well-known/webfinger?resource={{uri}}"


def interaction_template(base_url: str) -> str:
    """WebFinger's OStatus subscribe template (`{uri}` is filled in by the other server)."""
    return f"{base_url}/authorize_interaction?uri={{uri}}"
