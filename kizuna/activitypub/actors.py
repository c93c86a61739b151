"""Actor documents: `actor_json` for our actors, `parse_actor` for remote ones.

The emitted field set and order follow Mastodon's ActorSerializer
(app/serializers/activitypub/actor_serializer.rb) and payloads/mastodon-actor.json.
Parsing is lenient where the fediverse varies (string / Link / list for `url` and `icon`, one
key or a list of keys) and strict on what we act on (id, type, username, inbox).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from kizuna.activitypub.context import actor_context
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.html import MAX_HTML_TAGS, sanitize
from kizuna.activitypub.ids import key_id
from kizuna.activitypub.vocab import (
    ACTOR_TYPES,
    ActorType,
    JsonObject,
    as_list,
    get_id,
    is_http_url,
    isoformat_z,
    require_str,
)

__all__ = [
    "MAX_PROFILE_FIELDS",
    "REMOTE_USERNAME_RE",
    "Image",
    "LocalActor",
    "ProfileField",
    "RemoteActor",
    "actor_json",
    "image_json",
    "parse_actor",
]

_HTML: Final = "text/html"
# More is a flood, refused (Mastodon's users fill at most 4): each value is HTML to sanitise,
# so their count and the tags of all of them together are bounded.
MAX_PROFILE_FIELDS: Final = 50
# What Mastodon stores for a remote account (Account::USERNAME_ONLY_RE, validated for every
# remote account, case-insensitive): letters, digits and "_", with "." and "-" only inside.
# Misskey's check of a remote actor (/^\w([\w-.]*\w)?$/, ASCII \w) and Lemmy's names are
# within it; an actor outside it is refused as Mastodon refuses it, so no real peer is lost,
# and a username can never carry markup or a path into our pages and links.
REMOTE_USERNAME_RE: Final = re.compile(r"[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*")
# Terms of Lemmy's context (join-lemmy.org/context.json) that a Group document uses.
LEMMY_CONTEXT: Final = {
    "lemmy": "https://join-lemmy.org/ns#",
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    "moderators": {"@type": "@id", "@id": "lemmy:moderators"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    url: str
    media_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileField:
    """A profile metadata row; `name` is plain text, `value_html` is (sanitised) HTML."""

    name: str
    value_html: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalActor:
    id: str
    type: str  # one of ACTOR_TYPES (checked): "Person", "Application", "Group", …
    username: str
    name: str
    summary_html: str
    url: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str | None
    featured_tags: str | None
    shared_inbox: str
    public_key_pem: str
    manually_approves_followers: bool
    discoverable: bool
    published: datetime  # aware
    indexable: bool = False
    memorial: bool = False
    icon: Image | None = None
    image: Image | None = None
    fields: tuple[ProfileField, ...] = ()
    # Groups (Lemmy's community shape): the moderators collection, and who may start threads.
    moderators: str | None = None
    posting_restricted_to_mods: bool = False
    # Mastodon's `suspended: true` (toot namespace): the caller blanks the profile fields.
    suspended: bool = False

    def __post_init__(self) -> None:
        if self.type not in ACTOR_TYPES:
            raise ValueError(f"not an actor type: {self.type!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteActor:
    id: str
    type: ActorType
    preferred_username: str
    name: str | None
    summary_html: str  # sanitised
    url: str | None
    inbox: str
    outbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    shared_inbox: str | None
    public_key_id: str | None
    public_key_owner: str | None
    public_key_pem: str | None
    manually_approves_followers: bool
    discoverable: bool
    published: str | None
    icon_url: str | None
    image_url: str | None
    fields: tuple[ProfileField, ...]
    suspended: bool = False  # Mastodon's `suspended: true`: its server suspended it
    raw: JsonObject = field(repr=False, compare=False)


def image_json(image: Image) -> JsonObject:
    return {"type": "Image", "mediaType": image.media_type, "url": image.url}


def actor_json(actor: LocalActor) -> JsonObject:
    """Our actor, Mastodon-shaped. `icon`/`image`/`featured`/`featuredTags` only when set."""
    doc: JsonObject = {
        "@context": actor_context(),
        "id": actor.id,
        "type": actor.type,
        "following": actor.following,
        "followers": actor.followers,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
    }
    if actor.featured is not None:
        doc["featured"] = actor.featured
    if actor.featured_tags is not None:
        doc["featuredTags"] = actor.featured_tags
    doc |= {
        "preferredUsername": actor.username,
        "name": actor.name,
        "summary": actor.summary_html,
        "url": actor.url,
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "published": isoformat_z(actor.published),
        "memorial": actor.memorial,
        "publicKey": {
            "id": key_id(actor.id),
            "owner": actor.id,
            "publicKeyPem": actor.public_key_pem,
        },
        "tag": [],
        "attachment": [
            {"type": "PropertyValue", "name": f.name, "value": f.value_html} for f in actor.fields
        ],
    }
    if actor.suspended:  # after attachment, as ActorSerializer's `attribute :suspended`
        doc["suspended"] = True
    doc["endpoints"] = {"sharedInbox": actor.shared_inbox}
    if actor.icon is not None:
        doc["icon"] = image_json(actor.icon)
    if actor.image is not None:
        doc["image"] = image_json(actor.image)
    if actor.moderators is not None:
        doc["@context"].append(copy.deepcopy(LEMMY_CONTEXT))
        doc["attributedTo"] = actor.moderators
        doc["postingRestrictedToMods"] = actor.posting_restricted_to_mods
    return doc


def parse_actor(doc: object) -> RemoteActor:
    """A fetched actor document → `RemoteActor`; raises `InvalidActivityError`."""
    if not isinstance(doc, dict):
        raise InvalidActivityError("actor document is not a JSON object")
    actor_id = require_str(doc, "id")
    if not is_http_url(actor_id):
        raise InvalidActivityError(f"actor id is not an http(s) URL: {actor_id!r}")
    actor_type = _actor_type(doc.get("type"))
    if actor_type is None:
        raise InvalidActivityError(f"not an actor type: {doc.get('type')!r}")
    username = doc.get("preferredUsername")
    if not isinstance(username, str) or not username:
        raise InvalidActivityError("actor has no preferredUsername")
    if not REMOTE_USERNAME_RE.fullmatch(username):
        raise InvalidActivityError(f"preferredUsername is not a username: {username[:64]!r}")
    inbox = get_id(doc.get("inbox"))
    if inbox is None:
        raise InvalidActivityError("actor has no inbox")
    if not is_http_url(inbox):
        raise InvalidActivityError(f"actor inbox is not an http(s) URL: {inbox!r}")
    key = _public_key(doc.get("publicKey"), actor_id)
    endpoints = doc.get("endpoints")
    name = doc.get("name")
    summary = doc.get("summary")
    published = doc.get("published")
    fields = _property_values(doc.get("attachment"))
    _check_profile_html([summary, *(value for _, value in fields)])
    return RemoteActor(
        id=actor_id,
        type=actor_type,
        preferred_username=username,
        name=name if isinstance(name, str) else None,
        summary_html=sanitize(summary, "summary") if isinstance(summary, str) else "",
        url=_link_href(doc.get("url")),
        inbox=inbox,
        outbox=_http_id(doc.get("outbox")),
        followers=_http_id(doc.get("followers")),
        following=_http_id(doc.get("following")),
        featured=_http_id(doc.get("featured")),
        shared_inbox=_http_id(endpoints.get("sharedInbox"))
        if isinstance(endpoints, dict)
        else None,
        public_key_id=get_id(key) if key is not None else None,
        public_key_owner=get_id(key.get("owner")) if key is not None else None,
        public_key_pem=_str_or_none(key.get("publicKeyPem")) if key is not None else None,
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        discoverable=doc.get("discoverable") is True,
        published=published if isinstance(published, str) else None,
        icon_url=_image_url(doc.get("icon")),
        image_url=_image_url(doc.get("image")),
        fields=tuple(
            ProfileField(name=name, value_html=sanitize(value, "profile field value"))
            for name, value in fields
        ),
        suspended=doc.get("suspended") is True,
        raw=doc,
    )


def _actor_type(value: Any) -> ActorType | None:
    for candidate in as_list(value):  # "type" may be a list (JSON-LD allows several)
        if candidate in ACTOR_TYPES:
            return ActorType(candidate)
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _http_id(value: Any) -> str | None:
    ident = get_id(value)
    return ident if is_http_url(ident) else None


def _public_key(value: Any, actor_id: str) -> JsonObject | None:
    """The key object owned by the actor, else the first key object, else None."""
    keys = [key for key in as_list(value) if isinstance(key, dict)]
    for key in keys:
        if get_id(key.get("owner")) == actor_id:
            return key
    return keys[0] if keys else None


def _link_href(value: Any) -> str | None:
    """An http(s) URL from a string, a Link ({"href"}), or a list of either; in a list an
    entry with mediaType text/html wins."""
    items = as_list(value)
    preferred = [i for i in items if isinstance(i, dict) and i.get("mediaType") == _HTML]
    for item in [*preferred, *items]:
        href = item.get("href") if isinstance(item, dict) else item
        if is_http_url(href):
            return str(href)
    return None


def _image_url(value: Any) -> str | None:
    """`icon`/`image`: an Image object (its `url` a string, Link or list), a bare URL, or a
    list of those; the first usable one wins."""
    for item in as_list(value):
        url = _link_href(item.get("url")) if isinstance(item, dict) else _link_href(item)
        if url is not None:
            return url
    return None


def _property_values(value: Any) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for item in as_list(value):
        if not isinstance(item, dict) or item.get("type") != "PropertyValue":
            continue
        name, val = item.get("name"), item.get("value")
        if isinstance(name, str) and isinstance(val, str):
            fields.append((name, val))
    if len(fields) > MAX_PROFILE_FIELDS:
        raise InvalidActivityError(
            f"too many profile fields: {len(fields)} (at most {MAX_PROFILE_FIELDS})"
        )
    return fields


def _check_profile_html(values: list[Any]) -> None:
    # `sanitize` bounds each value; this bounds them together, before any is parsed.
    tags = sum(v.count("<") for v in values if isinstance(v, str))
    if tags > MAX_HTML_TAGS:
        raise InvalidActivityError(
            f"summary and profile fields have {tags} tags (at most {MAX_HTML_TAGS})"
        )
