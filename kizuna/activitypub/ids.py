"""Where a local actor's documents live (pure): one place, so routes and builders agree."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


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
        followers=f"{actor}/followers",
        following=f"{actor}/following",
        featured=f"{actor}/collections/featured",
        featured_tags=f"{actor}/collections/tags",
        shared_inbox=f"{base_url}/inbox",
        key_id=f"{actor}#main-key",
    )


def user_urls(base_url: str, username: str) -> ActorUrls:
    return _actor_urls(base_url, f"{base_url}/users/{username}", f"{base_url}/@{username}")


def group_urls(base_url: str, slug: str) -> ActorUrls:
    """A community is a Group at /c/SLUG, as Lemmy's; its HTML page is the same URL."""
    actor = f"{base_url}/c/{slug}"
    return _actor_urls(base_url, actor, actor)


def moderators_url(group_id: str) -> str:
    return f"{group_id}/moderators"


def local_actor_urls(base_url: str, actor_type: str, username: str) -> ActorUrls:
    if actor_type == "Application":
        return instance_urls(base_url)
    if actor_type == "Group":
        return group_urls(base_url, username)
    return user_urls(base_url, username)


def instance_urls(base_url: str) -> ActorUrls:
    """Mastodon's instance actor lives at /actor (type Application)."""
    return _actor_urls(base_url, f"{base_url}/actor", f"{base_url}/about")


def status_url(base_url: str, username: str, post_id: int) -> str:
    return f"{base_url}/users/{username}/statuses/{post_id}"


def reaction_url(actor_id: str, reaction_id: int) -> str:
    """A local account's reaction (a like or emoji) as an activity others can fetch: a group
    relaying it is believed only as its origin serves it (kizuna/inbox/community.py). Its
    Undo is the same plus `/undo`. Older reactions keep their unfetchable `#likes/N` or
    `#reactions/N` fragment ids (their Undo matches the stored id)."""
    return f"{actor_id}/reactions/{reaction_id}"


def tag_path(tag: str) -> str:
    return f"/tags/{quote(tag, safe='')}"
