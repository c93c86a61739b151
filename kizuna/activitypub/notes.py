"""Notes (statuses) and their Create activity, shaped like Mastodon's NoteSerializer
(app/serializers/activitypub/note_serializer.rb) and payloads/mastodon-create-note.json.

Not emitted yet: `replies`, `shares`, poll fields, attachments (always []).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from kizuna.activitypub.context import note_context
from kizuna.activitypub.ids import likes_url, reactions_url, status_activity_id
from kizuna.activitypub.reactions import EmojiTag, emoji_tag_json
from kizuna.activitypub.vocab import AS_PUBLIC, JsonObject, Visibility, isoformat_z

__all__ = [
    "VISIBILITIES",
    "HashtagTag",
    "MentionTag",
    "NoteView",
    "addressing",
    "create_json",
    "note_json",
]

VISIBILITIES: Final[frozenset[str]] = frozenset(Visibility)


@dataclass(frozen=True, slots=True, kw_only=True)
class MentionTag:
    href: str  # the mentioned actor's id
    name: str  # "@bob@b.test"


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagTag:
    href: str  # "https://a.test/tags/tokyo"
    name: str  # "#tokyo"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteView:
    id: str
    url: str
    attributed_to: str
    content_html: str
    summary: str | None
    sensitive: bool
    visibility: str  # one of VISIBILITIES (checked)
    followers_url: str
    published: datetime  # aware
    updated: datetime | None
    in_reply_to: str | None
    mentions: tuple[MentionTag, ...]
    hashtags: tuple[HashtagTag, ...]
    language: str | None
    conversation: str | None = None
    # The community (Group id) the note was posted in: named in `to` and `audience` (FEP-1b12).
    audience: str | None = None
    # Custom emoji the content names as `:shortcode:` (never instance-only ones).
    emojis: tuple[EmojiTag, ...] = ()
    # Accounts that liked or reacted (Mastodon's favourites count); None: not published.
    likes: int | None = None

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility: {self.visibility!r}")


def addressing(
    visibility: str, followers_url: str, mention_hrefs: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(to, cc) as Mastodon addresses each visibility; mentions deduplicated, in order.

    Raises ValueError for a visibility not in VISIBILITIES.
    """
    mentions = list(dict.fromkeys(mention_hrefs))
    match visibility:
        case "public":
            return [AS_PUBLIC], [followers_url, *mentions]
        case "unlisted":
            return [followers_url], [AS_PUBLIC, *mentions]
        case "private":
            return [followers_url], mentions
        case "direct":
            return mentions, []
        case _:
            raise ValueError(f"unknown visibility: {visibility!r}")


def note_json(note: NoteView, *, with_context: bool = True) -> JsonObject:
    to, cc = _note_addressing(note)
    doc: JsonObject = {"@context": note_context()} if with_context else {}
    doc |= {
        "id": note.id,
        "type": "Note",
        "summary": note.summary or None,
        "inReplyTo": note.in_reply_to,
        "published": isoformat_z(note.published),
        "url": note.url,
        "attributedTo": note.attributed_to,
        "to": to,
        "cc": cc,
        "sensitive": note.sensitive,
        "atomUri": note.id,
        "inReplyToAtomUri": note.in_reply_to,
        "conversation": note.conversation,
        "content": note.content_html,
    }
    if note.audience:
        doc["audience"] = note.audience
    if note.likes is not None:
        doc["likes"] = {"id": likes_url(note.id), "type": "Collection", "totalItems": note.likes}
        doc["emojiReactions"] = reactions_url(note.id)  # FEP-c0e0
    if note.language:
        doc["contentMap"] = {note.language: note.content_html}
    if note.updated is not None:
        doc["updated"] = isoformat_z(note.updated)
    doc["attachment"] = []
    doc["tag"] = [
        *({"type": "Mention", "href": m.href, "name": m.name} for m in note.mentions),
        *({"type": "Hashtag", "href": h.href, "name": h.name} for h in note.hashtags),
        *(emoji_tag_json(e) for e in note.emojis),
    ]
    return doc


def create_json(note: NoteView) -> JsonObject:
    """Create(Note): id `<note id>/activity`, addressed like the note (separate lists)."""
    to, cc = _note_addressing(note)
    return {
        "@context": note_context(),
        "id": status_activity_id(note.id),
        "type": "Create",
        "actor": note.attributed_to,
        "published": isoformat_z(note.published),
        "to": to,
        "cc": cc,
        "object": note_json(note, with_context=False),
    } | ({"audience": note.audience} if note.audience else {})


def _note_addressing(note: NoteView) -> tuple[list[str], list[str]]:
    to, cc = addressing(note.visibility, note.followers_url, (m.href for m in note.mentions))
    if note.audience and note.audience not in to:
        to.append(note.audience)  # Lemmy reads the community from `to` as well
    return to, cc
