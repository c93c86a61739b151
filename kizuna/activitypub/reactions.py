"""Emoji reactions on the wire (pure): which emoji is valid, and how each peer hears one.

One reaction model inside; outside, a dialect per peer (reference/federation.md §8):
- Misskey and its forks read `Like` with `content` and `_misskey_reaction` (plus the custom
  emoji's `Emoji` tag) and keep ONE reaction per user and note (a second replaces the first:
  Misskey's ReactionService) — so they get one at a time.
- Akkoma/Pleroma take `EmojiReact`, several per user.
- Mastodon, GoToSocial and anything unknown count a `Like` as a favourite, one per user;
  what reads wrong as a favourite (👎 …) is not sent to them at all.
- Kizuna reads the Misskey form, several per user.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import regex  # type: ignore[import-untyped]  # ships neither stubs nor py.typed

from kizuna.activitypub.context import AS_CONTEXT, REACTION_CONTEXT, reaction_context
from kizuna.activitypub.vocab import JsonObject

__all__ = [
    "DEFAULT_NEGATIVE",
    "MISSKEY_CONTEXT",
    "Dialect",
    "EmojiTag",
    "dialect_for",
    "emoji_tag_json",
    "is_shortcode",
    "reaction_json",
    "valid_reaction",
]

# Reactions a favourite would misrepresent: never sent to like-only servers.
DEFAULT_NEGATIVE: Final = frozenset(
    {"👎", "😡", "😠", "🤬", "💢", "😤", "🖕", "💩", "😒", "🙄", "💔", "😞", "😢", "😭"}
)

# The context of a reaction (Misskey's and LitePub's terms): one name kept for callers.
MISSKEY_CONTEXT: Final = REACTION_CONTEXT

_SHORTCODE = regex.compile(r":([A-Za-z0-9_+\-]{1,64}):")
# One user-perceived character that is an emoji: a pictographic base (with its variation
# selectors, skin tones, ZWJ sequence), a keycap, or a flag (regional indicator pair).
_EMOJI = regex.compile(
    r"(?:\p{Extended_Pictographic}|\p{Emoji_Presentation}|[0-9#*]\uFE0F?\u20E3"
    r"|\p{Regional_Indicator}{2})"
)
MAX_EMOJI_CHARS = 32  # a family ZWJ sequence is ~11 code points; anything longer is not one


class Dialect(StrEnum):
    KIZUNA = "kizuna"  # Like + content, several per user
    MISSKEY = "misskey"  # Like + content, one per user
    AKKOMA = "akkoma"  # EmojiReact, several per user
    LIKE_ONLY = "like_only"  # a favourite, one per user, positive reactions only

    @property
    def single_slot(self) -> bool:
        return self in (Dialect.MISSKEY, Dialect.LIKE_ONLY)


_MISSKEY_FAMILY: Final = frozenset(
    {
        "misskey",
        "calckey",
        "firefish",
        "foundkey",
        "sharkey",
        "iceshrimp",
        "cherrypick",
        "catodon",
        "meisskey",
    }
)
_AKKOMA_FAMILY: Final = frozenset({"akkoma", "pleroma", "incestoma"})


def dialect_for(software: str | None) -> Dialect:
    """NodeInfo `software.name` → dialect; unknown software is treated as like-only."""
    name = (software or "").strip().lower()
    if name == "kizuna":
        return Dialect.KIZUNA
    if name in _MISSKEY_FAMILY:
        return Dialect.MISSKEY
    if name in _AKKOMA_FAMILY:
        return Dialect.AKKOMA
    return Dialect.LIKE_ONLY


def is_shortcode(value: str) -> bool:
    return _SHORTCODE.fullmatch(value) is not None


def valid_reaction(value: str) -> bool:
    """A single emoji (one grapheme cluster) or a `:shortcode:`; "" is a plain like."""
    if value == "" or is_shortcode(value):
        return True
    if len(value) > MAX_EMOJI_CHARS:
        return False
    clusters = regex.findall(r"\X", value)
    return len(clusters) == 1 and _EMOJI.match(value) is not None


def is_positive(emoji: str, negative: frozenset[str] = DEFAULT_NEGATIVE) -> bool:
    """Whether a favourite reads right for it (variation selectors ignored)."""
    return emoji.replace("\ufe0f", "") not in {n.replace("\ufe0f", "") for n in negative}


@dataclass(frozen=True, slots=True, kw_only=True)
class EmojiTag:
    """A custom emoji as other servers read it."""

    id: str
    shortcode: str  # without colons
    url: str
    media_type: str
    updated: str | None = None


def emoji_tag_json(tag: EmojiTag) -> JsonObject:
    doc: JsonObject = {
        "id": tag.id,
        "type": "Emoji",
        "name": f":{tag.shortcode}:",
        "icon": {"type": "Image", "mediaType": tag.media_type, "url": tag.url},
    }
    if tag.updated:
        doc["updated"] = tag.updated
    return doc


def reaction_json(
    dialect: Dialect,
    *,
    id: str,
    actor: str,
    object_id: str,
    emoji: str,
    tag: EmojiTag | None = None,
) -> JsonObject:
    """The activity for one reaction ("" = a plain like) in `dialect`. Like-only servers
    (Mastodon, GoToSocial, unknown software) get a plain favourite whatever the emoji: the
    emoji is for servers known to read it."""
    if emoji == "" or dialect is Dialect.LIKE_ONLY:
        return {
            "@context": AS_CONTEXT,
            "id": id,
            "type": "Like",
            "actor": actor,
            "object": object_id,
        }
    kind = "EmojiReact" if dialect is Dialect.AKKOMA else "Like"
    doc: JsonObject = {
        "@context": reaction_context(),
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object_id,
        "content": emoji,
    }
    if kind == "Like":
        doc["_misskey_reaction"] = emoji
    if tag is not None:
        doc["tag"] = [emoji_tag_json(tag)]
    return doc
