"""JSON-LD `@context` values, compacted names exactly as Mastodon publishes them.

Shapes follow Mastodon's `app/helpers/context_helper.rb` (CONTEXT_EXTENSION_MAP) and the
extensions its actor/note serializers request; keep `"schema": "http://schema.org#"` (http,
with "#"): consumers compact PropertyValue against exactly that IRI.

`ACTOR_CONTEXT` and `NOTE_CONTEXT` are lists holding dicts, so never put them into a document
as they are: builders call `actor_context()` / `note_context()`, which return deep copies, so
a caller that edits one document cannot change the next one.

Every term we emit must expand for a JSON-LD consumer (Fedify, Mastodon's LD signatures):
a document that embeds another (Undo, Update, a Group's Announce, a collection of notes or
reactions) carries the embedded document's terms in its own context (`merge_contexts`).
tests/jsonld_terms.py checks every document we build and serve.
"""

from __future__ import annotations

import copy
from typing import Any, Final

AS_CONTEXT: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT: Final = "https://w3id.org/security/v1"

_TOOT: Final = "http://joinmastodon.org/ns#"
_FEDIBIRD: Final = "http://fedibird.com/ns#"

ACTOR_CONTEXT: Final[list[Any]] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": _TOOT,
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "memorial": "toot:memorial",
        "suspended": "toot:suspended",
        "Emoji": "toot:Emoji",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "Hashtag": "as:Hashtag",
        "sensitive": "as:sensitive",
    },
]

# Mastodon builds a status's context from what it contains (atom_uri, conversation,
# sensitive, voters_count, hashtag, emoji, blurhash/focal_point for media). We always publish
# the union, so one constant serves notes with or without tags and attachments.
NOTE_CONTEXT: Final[list[Any]] = [
    AS_CONTEXT,
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": _TOOT,
        "votersCount": "toot:votersCount",
        "Hashtag": "as:Hashtag",
        "Emoji": "toot:Emoji",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        # FEP-c0e0's reactions collection, under Fedibird's name (as Fedify defines it).
        "fedibird": _FEDIBIRD,
        "emojiReactions": {"@id": "fedibird:emojiReactions", "@type": "@id"},
    },
]

# Reactions: Misskey's `_misskey_reaction` (Like), LitePub's `EmojiReact` (Akkoma), the
# custom emoji's `Emoji` tag.
REACTION_CONTEXT: Final[list[Any]] = [
    AS_CONTEXT,
    {
        "toot": _TOOT,
        "Emoji": "toot:Emoji",
        "misskey": "https://misskey-hub.net/ns#",
        "_misskey_reaction": "misskey:_misskey_reaction",
        "litepub": "http://litepub.social/ns#",
        "EmojiReact": "litepub:EmojiReact",
    },
]


def actor_context() -> list[Any]:
    """A fresh deep copy of `ACTOR_CONTEXT`."""
    return copy.deepcopy(ACTOR_CONTEXT)


def note_context() -> list[Any]:
    """A fresh deep copy of `NOTE_CONTEXT`."""
    return copy.deepcopy(NOTE_CONTEXT)


def reaction_context() -> list[Any]:
    """A fresh deep copy of `REACTION_CONTEXT`."""
    return copy.deepcopy(REACTION_CONTEXT)


def merge_contexts(*contexts: Any) -> Any:
    """One `@context` defining every term of `contexts` (each a URL, an object or a list of
    those; None is skipped): the URLs in order, then one object with every inline term (the
    first definition of a term wins). A single URL stays a bare string, as AS_CONTEXT."""
    urls: list[str] = []
    terms: dict[str, Any] = {}
    for context in contexts:
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, str) and item not in urls:
                urls.append(item)
            elif isinstance(item, dict):
                for term, definition in item.items():
                    terms.setdefault(term, copy.deepcopy(definition))
    if not terms:
        return urls[0] if len(urls) == 1 else urls
    return [*urls, terms]
