"""Parsers for what we receive: activities (`parse_activity`) and posts (`parse_note`).

Pure: standard library and `html.sanitize` (bleach) only; documents are never mutated.
Every field a handler acts on is a typed attribute, embedded activities and posts included
(parsed by the same parsers); an activity's document is kept (`as_received`) only where it
is passed on unchanged. Each parser raises `InvalidActivityError` with a message naming the
field; an activity type we do not act on is `Unknown`, not an error.

Lenient where servers differ (checked against their serializers): references may be a
string, an object with `id` or a list (GoToSocial writes one-element lists as a bare value:
`"to": "…#Public"`, `"tag": {…}`); Accept/Reject may embed the Follow (Mastodon, Lemmy) or
give only its id (Pleroma/Akkoma `Builder.accept`); Misskey's extra note fields
(`_misskey_content`, `_misskey_quote`, `quoteUrl`, `source`) are ignored except for the quote
URL. Strict on what we act on: ids are http(s) URLs of at most 2048 characters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import Any, Final, Literal, NamedTuple, TypeAlias

from kizuna.activitypub.actors import RemoteActor, parse_actor
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.html import sanitize
from kizuna.activitypub.text import normalize_hashtag
from kizuna.activitypub.vocab import (
    ACTOR_TYPES,
    AS_PUBLIC,
    AS_PUBLIC_ALIASES,
    ActorType,
    JsonObject,
    Visibility,
    as_list,
    get_id,
    is_http_url,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_CONTENT_CHARS",
    "MAX_HASHTAG_CHARS",
    "MAX_TAGS",
    "MAX_URL_CHARS",
    "NOTE_TYPES",
    "PARSERS",
    "Activity",
    "Announce",
    "Attachment",
    "Block",
    "CollectionChange",
    "Create",
    "CustomEmoji",
    "Delete",
    "EmojiReact",
    "Follow",
    "Like",
    "Mention",
    "Move",
    "RemoteNote",
    "Response",
    "Undo",
    "Undone",
    "Unknown",
    "Update",
    "activity_type",
    "note_visibility",
    "parse_activity",
    "parse_announce",
    "parse_block",
    "parse_collection_change",
    "parse_create",
    "parse_delete",
    "parse_follow",
    "parse_like",
    "parse_move",
    "parse_note",
    "parse_response",
    "parse_undo",
    "parse_unknown",
    "parse_update",
]

MAX_URL_CHARS: Final = 2048
MAX_CONTENT_CHARS: Final = 100_000
MAX_TAGS: Final = 500  # more is a flood: the post is refused
MAX_HASHTAG_CHARS: Final = 255  # post_tags.tag; a longer hashtag is dropped, the post kept
MAX_ATTACHMENTS: Final = 20  # more are dropped (RemoteNote.attachments_truncated)

NOTE_TYPES: Final = frozenset({"Note", "Article", "Page", "Question"})
_TITLED_TYPES: Final = frozenset({"Article", "Page"})  # shown as title + link, like Mastodon
_AUTHOR_TYPES: Final = ACTOR_TYPES - {ActorType.GROUP}  # PeerTube: attributedTo [Person, Group]
_SHORTCODE_RE: Final = re.compile(r"[A-Za-z0-9_+\-]+")  # Mastodon [\w]+, Misskey adds +-
_HTML: Final = "text/html"


# --- activities ------------------------------------------------------------------------------
#
# `as_received` is the activity exactly as it arrived, kept only on the kinds we pass on
# unchanged: a Follow embedded in our Accept/Reject, and what one of our communities relays
# to its members (Create, Update, Delete, likes and their Undo). Nothing reads fields from it.


@dataclass(frozen=True, slots=True, kw_only=True)
class Follow:
    id: str
    actor: str
    object: str
    as_received: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """Accept or Reject of a Follow. With the Follow embedded all three follow_* fields
    are known (follow_id may still be None if the sender left it out); with a bare id only
    follow_id is."""

    id: str
    actor: str
    kind: Literal["Accept", "Reject"]
    follow_id: str | None
    follow_actor: str | None
    follow_object: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Undone:
    """What an Undo names, as references (each None when not sent; a bare id gives only
    `id`). Lenient: whether the undone activity is the sender's is for the handler to check
    against what it stored."""

    type: str | None = None
    id: str | None = None
    actor: str | None = None
    object: str | None = None
    target: str | None = None  # a community ban's community (Lemmy's Block)


@dataclass(frozen=True, slots=True, kw_only=True)
class Undo:
    id: str
    actor: str
    undone: Undone
    as_received: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete:
    id: str
    actor: str
    object_id: str  # from a bare id, a Tombstone, or the actor itself
    as_received: JsonObject = field(repr=False, compare=False)

    @property
    def is_actor_deletion(self) -> bool:
        return self.object_id == self.actor


@dataclass(frozen=True, slots=True, kw_only=True)
class Like:
    """A favourite, or a Misskey reaction when `content` is set (`_misskey_reaction`
    preferred, else `content`); `emojis` carries a custom reaction's Emoji tag."""

    id: str
    actor: str
    object_id: str
    content: str | None
    emojis: tuple[CustomEmoji, ...] = ()
    as_received: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmojiReact:
    """Pleroma/Akkoma's reaction (LitePub EmojiReact): like `Like`, `content` the emoji."""

    id: str
    actor: str
    object_id: str
    content: str | None
    emojis: tuple[CustomEmoji, ...] = ()
    as_received: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """An account's block, or with a `target` a community's ban (Lemmy: the moderator
    blocks the member from the community, `summary` the reason)."""

    id: str
    actor: str
    object: str
    target: str | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    id: str
    actor: str
    object: str  # the old account (normally == actor)
    target: str  # the new account; its alsoKnownAs must name the old one


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionChange:
    """Add or Remove of `object` in the `target` collection (Lemmy: a pin in the featured
    collection, or a moderator in the moderators collection)."""

    id: str
    actor: str
    kind: Literal["Add", "Remove"]
    object: str
    target: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unknown:
    """A type we do not act on: acknowledged (202) and dropped, never an error. Its
    references are read leniently, for telling who relayed what."""

    type: str | None
    id: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Create:
    """`note` is the embedded post (to be checked or refetched), None for a bare id."""

    id: str
    actor: str
    object_id: str
    note: RemoteNote | None
    as_received: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    """`object`: the embedded post, the sender's own actor document (a profile change),
    `Unknown` for anything else embedded, None for a bare id."""

    id: str
    actor: str
    object_id: str
    object: RemoteNote | RemoteActor | Unknown | None
    as_received: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce:
    """A boost, or a community relaying what happened in it (FEP-1b12). `embedded` is the
    announced activity or post when embedded, parsed like a received one; never trusted as
    is: its origin must be checked or it must be refetched."""

    id: str
    actor: str
    object_id: str
    published: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    embedded: Activity | RemoteNote | None = None


Activity: TypeAlias = (
    Follow
    | Response
    | Undo
    | Delete
    | Announce
    | Like
    | EmojiReact
    | Block
    | Move
    | CollectionChange
    | Create
    | Update
    | Unknown
)


def activity_type(doc: JsonObject) -> str | None:
    """`type` as a string, or the first string of a list of types."""
    for candidate in as_list(doc.get("type")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def parse_activity(doc: object) -> Activity:
    """Dispatch on `type`; raises InvalidActivityError for a malformed known activity."""
    if not isinstance(doc, dict):
        raise InvalidActivityError("activity is not a JSON object")
    kind = activity_type(doc)
    if kind is None:
        raise InvalidActivityError("activity has no type")
    parse = PARSERS.get(kind)
    return parse(doc) if parse is not None else parse_unknown(doc)


def parse_unknown(doc: JsonObject) -> Unknown:
    return Unknown(
        type=activity_type(doc), id=get_id(doc.get("id")), actor=get_id(doc.get("actor"))
    )


def parse_follow(doc: JsonObject) -> Follow:
    ident, actor = _id_and_actor(doc)
    return Follow(id=ident, actor=actor, object=_url(doc.get("object"), "object"), as_received=doc)


def parse_response(doc: JsonObject) -> Response | Unknown:
    """Accept/Reject of a Follow; of anything else (QuoteRequest, Invite, …) `Unknown`."""
    ident, actor = _id_and_actor(doc)
    kind = activity_type(doc)
    if kind not in ("Accept", "Reject"):
        raise InvalidActivityError(f"not an Accept or Reject: {kind!r}")
    obj = doc.get("object")
    if isinstance(obj, dict):
        if activity_type(obj) != "Follow":
            return parse_unknown(doc)
        follow_id = _optional_url(obj.get("id"), "object.id")
        follow_actor = _optional_url(obj.get("actor"), "object.actor")
        follow_object = _optional_url(obj.get("object"), "object.object")
    else:
        follow_id, follow_actor, follow_object = _url(obj, "object"), None, None
    return Response(
        id=ident,
        actor=actor,
        kind="Accept" if kind == "Accept" else "Reject",
        follow_id=follow_id,
        follow_actor=follow_actor,
        follow_object=follow_object,
    )


def parse_undo(doc: JsonObject) -> Undo:
    ident, actor = _id_and_actor(doc)
    obj = doc.get("object")
    if isinstance(obj, dict):
        undone = Undone(
            type=activity_type(obj),
            id=_optional_url(obj.get("id"), "object.id"),
            actor=get_id(obj.get("actor")),
            object=get_id(obj.get("object")),
            target=get_id(obj.get("target")),
        )
    else:
        undone = Undone(id=_url(obj, "object"))
    return Undo(id=ident, actor=actor, undone=undone, as_received=doc)


def parse_delete(doc: JsonObject) -> Delete:
    ident, actor = _id_and_actor(doc)
    return Delete(
        id=ident, actor=actor, object_id=_url(doc.get("object"), "object"), as_received=doc
    )


def parse_announce(doc: JsonObject) -> Announce:
    ident, actor = _id_and_actor(doc)
    published = doc.get("published")
    obj = doc.get("object")
    embedded: Activity | RemoteNote | None = None
    if isinstance(obj, dict):
        embedded = parse_note(obj) if activity_type(obj) in NOTE_TYPES else parse_activity(obj)
    return Announce(
        id=ident,
        actor=actor,
        object_id=_url(obj, "object"),
        published=published if isinstance(published, str) else None,
        to=_audience(doc.get("to")),
        cc=_audience(doc.get("cc")),
        embedded=embedded,
    )


def parse_like(doc: JsonObject) -> Like | EmojiReact:
    """Like, or EmojiReact (same fields) when that is the type."""
    ident, actor = _id_and_actor(doc)
    content = next(
        (v for v in (doc.get("_misskey_reaction"), doc.get("content")) if _nonempty_str(v)),
        None,
    )
    cls = EmojiReact if activity_type(doc) == "EmojiReact" else Like
    return cls(
        id=ident,
        actor=actor,
        object_id=_url(doc.get("object"), "object"),
        content=content,
        emojis=_emojis(_tags(doc)),
        as_received=doc,
    )


def parse_block(doc: JsonObject) -> Block:
    ident, actor = _id_and_actor(doc)
    summary = doc.get("summary")
    return Block(
        id=ident,
        actor=actor,
        object=_url(doc.get("object"), "object"),
        target=get_id(doc.get("target")),
        summary=summary if isinstance(summary, str) else "",
    )


def parse_move(doc: JsonObject) -> Move:
    ident, actor = _id_and_actor(doc)
    return Move(
        id=ident,
        actor=actor,
        object=_url(doc.get("object"), "object"),
        target=_url(doc.get("target"), "target"),
    )


def parse_collection_change(doc: JsonObject) -> CollectionChange:
    ident, actor = _id_and_actor(doc)
    kind = activity_type(doc)
    if kind not in ("Add", "Remove"):
        raise InvalidActivityError(f"not an Add or Remove: {kind!r}")
    return CollectionChange(
        id=ident,
        actor=actor,
        kind="Add" if kind == "Add" else "Remove",
        object=_url(doc.get("object"), "object"),
        target=get_id(doc.get("target")),
    )


def parse_create(doc: JsonObject) -> Create:
    """Raises InvalidActivityError when the embedded object is not a post we keep."""
    ident, actor = _id_and_actor(doc)
    obj = doc.get("object")
    return Create(
        id=ident,
        actor=actor,
        object_id=_url(obj, "object"),
        note=parse_note(obj) if isinstance(obj, dict) else None,
        as_received=doc,
    )


def parse_update(doc: JsonObject) -> Update:
    """The embedded object is the sender's actor when its id is the sender's (checked
    first, as Mastodon's Update handler does), else a post, else `Unknown` (ignored)."""
    ident, actor = _id_and_actor(doc)
    obj = doc.get("object")
    embedded: RemoteNote | RemoteActor | Unknown | None = None
    if isinstance(obj, dict):
        if obj.get("id") == actor:
            embedded = parse_actor(obj)
        elif activity_type(obj) in NOTE_TYPES:
            embedded = parse_note(obj)
        else:
            embedded = parse_unknown(obj)
    return Update(
        id=ident, actor=actor, object_id=_url(obj, "object"), object=embedded, as_received=doc
    )


PARSERS: Final[dict[str, Callable[[JsonObject], Activity]]] = {
    "Follow": parse_follow,
    "Accept": parse_response,
    "Reject": parse_response,
    "Undo": parse_undo,
    "Delete": parse_delete,
    "Announce": parse_announce,
    "Like": parse_like,
    "EmojiReact": parse_like,
    "Block": parse_block,
    "Move": parse_move,
    "Add": parse_collection_change,
    "Remove": parse_collection_change,
    "Create": parse_create,
    "Update": parse_update,
}


# --- notes -----------------------------------------------------------------------------------


class Mention(NamedTuple):
    href: str  # the mentioned actor's id
    name: str  # "@bob@b.test" as the sender wrote it; "" when absent


class CustomEmoji(NamedTuple):
    shortcode: str  # without colons: "blobcat"
    icon_url: str
    id: str | None = None  # the Emoji object's id: its cache key


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    url: str
    media_type: str | None
    name: str | None  # alt text (`name`; GoToSocial has also used `summary`)
    kind: str  # "Document", "Image", "Video", "Audio", or "Link" (a link, not media)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteNote:
    id: str
    type: str  # one of NOTE_TYPES
    url: str  # the human-facing page, else the id
    attributed_to: str
    content_html: str  # sanitised; Article/Page get a title (and link) paragraph first
    summary: str | None  # plain text (content warning)
    sensitive: bool
    published: str | None
    updated: str | None
    in_reply_to: str | None
    to: tuple[str, ...]  # public aliases written as AS_PUBLIC
    cc: tuple[str, ...]
    visibility: Visibility
    mentions: tuple[Mention, ...]
    hashtags: tuple[str, ...]  # normalised, without "#"
    emojis: tuple[CustomEmoji, ...]
    attachments: tuple[Attachment, ...]
    attachments_truncated: bool  # more than MAX_ATTACHMENTS were sent
    language: str | None
    audience: str | None  # the group (FEP-1b12)
    quote: str | None  # FEP-044f `quote`, Misskey `_misskey_quote`/`quoteUrl`, `quoteUri`
    poll_options: tuple[str, ...]  # Question only
    poll_multiple: bool  # anyOf rather than oneOf
    poll_end: str | None

    def seen_by(self, followers_url: str | None) -> RemoteNote:
        """This note with its visibility read knowing the author's followers collection
        (what `parse_note(doc, followers_url=…)` gives)."""
        return replace(
            self, visibility=note_visibility(self.to, self.cc, followers_url=followers_url)
        )


def note_visibility(
    to: Sequence[str], cc: Sequence[str], *, followers_url: str | None = None
) -> Visibility:
    """Mastodon's reading of addressing: Public in `to` → public, in `cc` → unlisted; else a
    followers collection anywhere (the author's, or any id ending in /followers) → private;
    else direct."""
    if any(a in AS_PUBLIC_ALIASES for a in to):
        return Visibility.PUBLIC
    if any(a in AS_PUBLIC_ALIASES for a in cc):
        return Visibility.UNLISTED
    if any(a == followers_url or a.endswith("/followers") for a in (*to, *cc)):
        return Visibility.PRIVATE
    return Visibility.DIRECT


def parse_note(doc: object, *, followers_url: str | None = None) -> RemoteNote:
    """A Note, Article, Page or Question → RemoteNote. `followers_url` is the author's
    followers collection, when known, for telling private from direct."""
    if not isinstance(doc, dict):
        raise InvalidActivityError("note is not a JSON object")
    kind = activity_type(doc)
    if kind not in NOTE_TYPES:
        raise InvalidActivityError(f"not a note type: {kind!r}")
    ident = _url(doc.get("id"), "id")
    tags = _tags(doc)
    if len(tags) > MAX_TAGS:
        raise InvalidActivityError(f"too many tags: {len(tags)} (at most {MAX_TAGS})")
    to, cc = _audience(doc.get("to")), _audience(doc.get("cc"))
    attachments, truncated = _attachments(doc.get("attachment"))
    options, multiple = _poll_options(doc) if kind == "Question" else ((), False)
    url = _link_href(doc.get("url")) or ident
    return RemoteNote(
        id=ident,
        type=kind,
        url=url,
        attributed_to=_attributed_to(doc.get("attributedTo")),
        content_html=_content_html(doc, kind, ident, url, attachments),
        summary=_summary(doc),
        sensitive=doc.get("sensitive") is True,
        published=_str_or_none(doc.get("published")),
        updated=_str_or_none(doc.get("updated")),
        in_reply_to=_lenient_url(doc.get("inReplyTo"), "inReplyTo"),
        to=to,
        cc=cc,
        visibility=note_visibility(to, cc, followers_url=followers_url),
        mentions=_mentions(tags),
        hashtags=_hashtags(tags),
        emojis=_emojis(tags),
        attachments=attachments,
        attachments_truncated=truncated,
        language=_language(doc),
        audience=_lenient_url(doc.get("audience"), "audience"),
        quote=next(filter(None, (_droppable_url(doc.get(k)) for k in _QUOTE_KEYS)), None),
        poll_options=options,
        poll_multiple=multiple,
        poll_end=(_str_or_none(doc.get("endTime")) or _str_or_none(doc.get("closed")))
        if kind == "Question"
        else None,
    )


_QUOTE_KEYS: Final = ("quote", "_misskey_quote", "quoteUrl", "quoteUri")


# --- helpers ---------------------------------------------------------------------------------


def _check_url(url: str, what: str) -> str:
    if len(url) > MAX_URL_CHARS:
        raise InvalidActivityError(f"{what} is longer than {MAX_URL_CHARS} characters")
    if not is_http_url(url):
        raise InvalidActivityError(f"{what} is not an http(s) URL: {url[:100]!r}")
    return url


def _url(value: Any, what: str) -> str:
    """A required reference (string, object with id, or list): an http(s) URL."""
    ident = get_id(value)
    if ident is None:
        raise InvalidActivityError(f"{what} is missing")
    return _check_url(ident, what)


def _optional_url(value: Any, what: str) -> str | None:
    ident = get_id(value)
    return None if ident is None else _check_url(ident, what)


def _lenient_url(value: Any, what: str) -> str | None:
    """An http(s) reference, else None (old `tag:` URIs, Tombstone quotes); too long: refused."""
    ident = get_id(value)
    if ident is None:
        return None
    if len(ident) > MAX_URL_CHARS:
        raise InvalidActivityError(f"{what} is longer than {MAX_URL_CHARS} characters")
    return ident if is_http_url(ident) else None


def _droppable_url(value: Any) -> str | None:
    """An optional item's http(s) reference (an attachment, a mention, an emoji icon, the
    page `url`, a quote), else None: one bad item is dropped and the post kept, as Mastodon
    skips a bad attachment or tag rather than the status."""
    ident = get_id(value)
    if ident is None or len(ident) > MAX_URL_CHARS or not is_http_url(ident):
        return None
    return ident


def _id_and_actor(doc: JsonObject) -> tuple[str, str]:
    return _url(doc.get("id"), "id"), _url(doc.get("actor"), "actor")


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _limited_str(value: Any, what: str) -> str | None:
    if not isinstance(value, str):
        return None
    if len(value) > MAX_CONTENT_CHARS:
        raise InvalidActivityError(f"{what} too large")
    return value


def _audience(value: Any) -> tuple[str, ...]:
    ids = (get_id(item) for item in as_list(value))
    return tuple(AS_PUBLIC if i in AS_PUBLIC_ALIASES else i for i in ids if i is not None)


def _tags(doc: JsonObject) -> list[Any]:
    return as_list(doc.get("tag"))


def _typed(items: list[Any], kind: str) -> list[JsonObject]:
    return [i for i in items if isinstance(i, dict) and activity_type(i) == kind]


def _mentions(tags: list[Any]) -> tuple[Mention, ...]:
    seen: dict[str, Mention] = {}
    for tag in _typed(tags, "Mention"):
        href = _droppable_url(tag.get("href"))
        if href is not None:
            name = tag.get("name")
            seen.setdefault(href, Mention(href=href, name=name if isinstance(name, str) else ""))
    return tuple(seen.values())


def _hashtags(tags: list[Any]) -> tuple[str, ...]:
    names = (tag.get("name") for tag in _typed(tags, "Hashtag"))
    normalised = (normalize_hashtag(n.lstrip("#")) for n in names if isinstance(n, str))
    return tuple(dict.fromkeys(n for n in normalised if n and len(n) <= MAX_HASHTAG_CHARS))


def _emojis(tags: list[Any]) -> tuple[CustomEmoji, ...]:
    found: dict[str, CustomEmoji] = {}
    for tag in _typed(tags, "Emoji"):
        name = tag.get("name")
        shortcode = name.strip(":") if isinstance(name, str) else ""
        if not _SHORTCODE_RE.fullmatch(shortcode):
            continue
        icon = next((i for i in as_list(tag.get("icon")) if isinstance(i, dict)), None)
        icon_url = _link_href(icon.get("url")) if icon is not None else None
        if icon_url is not None:
            ident = _str_or_none(tag.get("id"))
            found.setdefault(shortcode, CustomEmoji(shortcode, icon_url, ident))
    return tuple(found.values())


def _link_href(value: Any) -> str | None:
    """An http(s) URL from a string, a Link ({"href"}), or a list of either; in a list an
    entry with mediaType text/html wins (PeerTube-style url lists). Unusable ones (too long,
    not http) are skipped."""
    items = as_list(value)
    preferred = [i for i in items if isinstance(i, dict) and i.get("mediaType") == _HTML]
    for item in [*preferred, *items]:
        href = _droppable_url(item.get("href") if isinstance(item, dict) else item)
        if href is not None:
            return href
    return None


def _attachments(value: Any) -> tuple[tuple[Attachment, ...], bool]:
    kept: list[Attachment] = []
    for item in as_list(value):
        attachment = _attachment(item)
        if attachment is None:
            continue
        if len(kept) == MAX_ATTACHMENTS:
            return tuple(kept), True
        kept.append(attachment)
    return tuple(kept), False


def _attachment(item: Any) -> Attachment | None:
    if not isinstance(item, dict):
        return None
    kind = activity_type(item) or "Document"
    raw_url = item.get("href") if kind == "Link" else item.get("url")
    url = _link_href(raw_url)
    if url is None:
        return None
    media_type = _str_or_none(item.get("mediaType"))
    if media_type is None and isinstance(raw_url, dict):  # url given as a Link
        media_type = _str_or_none(raw_url.get("mediaType"))
    name = _str_or_none(item.get("name")) or _str_or_none(item.get("summary"))
    return Attachment(url=url, media_type=media_type, name=name, kind=kind)


def _attributed_to(value: Any) -> str:
    """The author: a reference, or in a list the first string or non-Group actor object."""
    for item in as_list(value):
        if isinstance(item, str) or (
            isinstance(item, dict) and activity_type(item) in _AUTHOR_TYPES
        ):
            return _url(item, "attributedTo")
    return _url(value, "attributedTo")


def _language(doc: JsonObject) -> str | None:
    content_map = doc.get("contentMap")
    if isinstance(content_map, dict):
        for key in content_map:
            if isinstance(key, str) and key:
                return key
    # Lemmy: "language": {"identifier": "en", "name": "English"}; "und" = undetermined.
    lemmy = doc.get("language")
    if isinstance(lemmy, dict):
        identifier = _str_or_none(lemmy.get("identifier"))
        return identifier if identifier != "und" else None
    return None


def _raw_content(doc: JsonObject) -> str:
    content = doc.get("content")
    if not isinstance(content, str):
        content_map = doc.get("contentMap")
        values = content_map.values() if isinstance(content_map, dict) else ()
        content = next((v for v in values if isinstance(v, str)), "")
    if len(content) > MAX_CONTENT_CHARS:
        raise InvalidActivityError("content too large")
    return content


def _content_html(
    doc: JsonObject, kind: str, ident: str, url: str, attachments: tuple[Attachment, ...]
) -> str:
    content = _raw_content(doc)
    name = _limited_str(doc.get("name"), "name")
    if kind in _TITLED_TYPES and name and name.strip():
        # Mastodon shows an Article/Page as its title and a link; Lemmy link posts carry the
        # link as an attachment {type: Link, href} instead of `url`.
        link = url if url != ident else next((a.url for a in attachments if a.kind == "Link"), "")
        header = f"<p><strong>{html.escape(name.strip())}</strong></p>"
        if link:
            escaped = html.escape(link)
            header += f'<p><a href="{escaped}">{escaped}</a></p>'
        content = header + content
    return sanitize(content, "content")


def _poll_options(doc: JsonObject) -> tuple[tuple[str, ...], bool]:
    one_of, any_of = as_list(doc.get("oneOf")), as_list(doc.get("anyOf"))
    multiple = not one_of and bool(any_of)
    names = (item.get("name") for item in (any_of if multiple else one_of))
    return tuple(n for n in names if isinstance(n, str) and n), multiple


class _TextCollector(HTMLParser):
    """Text of an HTML fragment; the contents of script/style are dropped."""

    _SKIP: Final = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in ("br", "p") and self.parts:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _summary(doc: JsonObject) -> str | None:
    return _plain_text(sanitize(_limited_str(doc.get("summary"), "summary") or "", "summary"))


def _plain_text(value: str) -> str | None:
    """Sanitised HTML as plain text: tags stripped, entities decoded, whitespace collapsed.
    Only bleach's output is read here: the standard library's parser is quadratic on some
    malformed input (on Python 3.11, 100 kB of `<a x` took a minute) and raises
    AssertionError on `<![`."""
    collector = _TextCollector()
    collector.feed(value)
    collector.close()
    text = " ".join("".join(collector.parts).split())
    return text or None
