"""Finding Unicode emoji by name for the reaction picker (kizuna.web.emoji_search)."""

from __future__ import annotations

import pytest

from kizuna.activitypub.reactions import valid_reaction
from kizuna.web.emoji_search import EMOJI_NAMES, search


def _emoji(query: str, limit: int = 60) -> list[str]:
    return [emoji for emoji, _ in search(query, limit)]


def test_search__cat_finds_the_cat_face_and_the_cat() -> None:
    found = search("cat")

    assert ("🐱", "cat face") in found
    assert found[0] == ("🐈", "cat")  # the whole name first
    assert "✖️" not in _emoji("cat")  # "multipli-cat-ion": only word starts count


def test_search__thumbs_finds_thumbs_up_and_down() -> None:
    assert _emoji("thumbs") == ["👍", "👎"]
    assert _emoji("Thumbs UP") == ["👍"]


def test_search__every_word_must_start_a_word_of_the_name() -> None:
    assert _emoji("face joy")[:2] == ["😂", "😹"]
    assert _emoji("joy face")[:2] == ["😂", "😹"]
    assert _emoji("thumbs sideways") == []


def test_search__text_style_emoji_get_the_emoji_variation_selector() -> None:
    # ❤ (U+2764) is drawn as text unless followed by U+FE0F: found as the palette writes it.
    assert "❤️" in _emoji("heart")
    assert "❤" not in _emoji("heart")
    assert _emoji("red heart")[0] == "❤️"  # an alias beyond Unicode's "heavy black heart"


def test_search__a_pasted_emoji_finds_itself_first() -> None:
    assert search("❤")[0] == ("❤️", "heavy black heart")
    assert _emoji("👨‍👩‍👧") == ["👨‍👩‍👧"]


@pytest.mark.parametrize("query", ["", "   ", "zzqx", ":blobcat:", "-"])
def test_search__nothing_for_empty_or_unknown_queries(query: str) -> None:
    assert search(query) == []


def test_search__limit() -> None:
    assert len(search("face", 5)) == 5
    assert len(search("face")) == 60
    assert search("face", 0) == []


def test_emoji_names__are_valid_reactions_without_components() -> None:
    assert len(EMOJI_NAMES) > 1000
    emoji = {e for e, _ in EMOJI_NAMES}
    assert all(valid_reaction(e) for e in emoji)
    assert len(emoji) == len(EMOJI_NAMES)
    for component in ("#", "1", "\U0001f3fb", "\U0001f1ef"):  # keycap base, skin tone, flag half
        assert component not in emoji
        assert f"{component}\ufe0f" not in emoji
