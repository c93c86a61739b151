"""Reports between servers: the `Flag` activity, in Mastodon's shape.

Outgoing follows Mastodon's ActivityPub::FlagSerializer (app/serializers/activitypub/
flag_serializer.rb): `id`, `type`, `actor` (the instance actor: the reporter stays anonymous),
`content` (the comment), `object` (the account's uri, then the reported posts' uris, always a
list). Incoming follows app/lib/activitypub/activity/flag.rb: `object` may be one uri or a
list, `content` is plain text and cut at COMMENT_SIZE_LIMIT (5,000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kizuna.activitypub.context import AS_CONTEXT
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.vocab import JsonObject, as_list, get_id, is_http_url, require_str

__all__ = ["MAX_FLAG_COMMENT", "MAX_FLAG_OBJECTS", "Flag", "flag_json", "parse_flag"]

MAX_FLAG_COMMENT: Final = 5000  # Mastodon's ActivityPub::Activity::Flag::COMMENT_SIZE_LIMIT
MAX_FLAG_OBJECTS: Final = 100  # an account and its posts; more is not a report but a flood


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    id: str
    actor: str
    objects: tuple[str, ...]  # uris of accounts and posts, in the order sent
    content: str


def flag_json(*, id: str, actor: str, content: str, objects: Sequence[str]) -> JsonObject:
    """`objects`: the reported account's uri first, then its posts' uris."""
    if not objects:
        raise ValueError("flag_json: a Flag names at least the reported account")
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Flag",
        "actor": actor,
        "content": content,
        "object": list(objects),
    }


def parse_flag(doc: JsonObject) -> Flag:
    """Raises InvalidActivityError; objects that are not http(s) uris are skipped."""
    ident = require_str(doc, "id")
    actor = get_id(doc.get("actor"))
    if actor is None or not is_http_url(actor):
        raise InvalidActivityError("the Flag has no actor")
    objects = tuple(
        uri
        for item in as_list(doc.get("object"))[:MAX_FLAG_OBJECTS]
        if (uri := get_id(item)) is not None and is_http_url(uri) and len(uri) <= 2048
    )
    if not objects:
        raise InvalidActivityError("the Flag names nothing (object)")
    content = doc.get("content")
    text = content if isinstance(content, str) else ""
    return Flag(id=ident, actor=actor, objects=objects, content=text[:MAX_FLAG_COMMENT])
