"""Finding a Unicode emoji by its name, for the reaction picker (pure: no I/O, no clock).

The list is built once at import from the Unicode data this Python ships: every code point
in the BMP and the SMP that is an emoji on its own (`Emoji_Presentation`, or
`Extended_Pictographic` and `Emoji`), without components (skin tones, regional indicators,
keycap digits). One that is drawn as text by default gets U+FE0F, as the palette's ❤️ has
it, so a reaction found here counts with the palette's. Names are Unicode's, lower-cased:
"thumbs up sign" 👍, "cat face" 🐱.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import regex  # type: ignore[import-untyped]  # ships neither stubs nor py.typed

from kizuna.activitypub.reactions import is_shortcode, valid_reaction

__all__ = ["EMOJI_NAMES", "search"]

DEFAULT_LIMIT: Final = 60
MAX_QUERY_CHARS: Final = 64

_CANDIDATE = regex.compile(r"[\p{Emoji}--\p{Emoji_Component}]", regex.V1)
_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
_RANGES: Final = (range(0x80, 0x3400), range(0x1F000, 0x1FC00))
_WORD_SPLIT = regex.compile(r"[\s\-]+")


def _build() -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for block in _RANGES:
        for code_point in block:
            char = chr(code_point)
            if not _CANDIDATE.match(char):
                continue
            presented = _PRESENTATION.match(char) is not None
            if not presented and _PICTOGRAPHIC.match(char) is None:
                continue
            name = unicodedata.name(char, None)
            if name is None:
                continue  # newer than this Python's Unicode data
            found.append((char if presented else f"{char}\ufe0f", name.lower()))
    return tuple(found)


EMOJI_NAMES: Final = _build()
# Unicode 1.1's names predate the ones people use (CLDR's "red heart"): a few extra words.
_ALIASES: Final = {
    "❤️": "red heart love",
    "😆": "laughing lol",
    "😂": "laughing lol",
    "🎉": "tada celebrate",
    "🙏": "thanks please pray",
    "👏": "applause",
    "😮": "wow surprised",
    "😢": "sad",
    "👍": "like yes ok",
    "🔥": "lit",
}
_WORDS: Final = tuple(
    tuple(_WORD_SPLIT.split(f"{name} {_ALIASES.get(emoji, '')}".strip()))
    for emoji, name in EMOJI_NAMES
)
_BY_CHAR: Final = {emoji.removesuffix("\ufe0f"): (emoji, name) for emoji, name in EMOJI_NAMES}


def _rank(terms: list[str], name: str, words: tuple[str, ...]) -> int | None:
    """None unless every term starts a word of the name; lower is a closer match."""
    if not all(any(word.startswith(term) for word in words) for term in terms):
        return None
    if name == " ".join(terms):
        return 0
    if all(term in words for term in terms):
        return 1
    return 2


def search(query: str, limit: int = DEFAULT_LIMIT) -> list[tuple[str, str]]:
    """(emoji, name) whose name has a word starting with each word of `query`, closest
    first (the whole name, then whole words, then fewer words). An emoji typed or pasted
    as the query comes first itself."""
    query = query.strip()[:MAX_QUERY_CHARS]
    if not query or limit <= 0:
        return []
    results: list[tuple[str, str]] = []
    if not is_shortcode(query) and valid_reaction(query):
        results.append(_BY_CHAR.get(query.removesuffix("\ufe0f"), (query, "")))
    terms = [t for t in _WORD_SPLIT.split(query.casefold()) if t]
    if not terms:
        return results[:limit]
    ranked: list[tuple[int, int, int]] = []
    for index, ((_, name), words) in enumerate(zip(EMOJI_NAMES, _WORDS, strict=True)):
        rank = _rank(terms, name, words)
        if rank is not None:
            ranked.append((rank, name.count(" "), index))
    ranked.sort()
    seen = {emoji for emoji, _ in results}
    for _, _, index in ranked:
        emoji, name = EMOJI_NAMES[index]
        if emoji not in seen:
            results.append((emoji, name))
    return results[:limit]
