"""One optional item of a remote post over a limit (an attachment, a mention, an emoji, a
hashtag, the page url, a quote) is dropped and the post kept; the post's own required
fields over a limit still refuse it."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.objects import parse_note
from tests.unit.test_objects import _note

LONG = "https://remote.test/" + "a" * 2040  # 2,060 characters: over MAX_URL_CHARS
GOOD_IMAGE = "https://remote.test/media/1.png"


def _image(url: Any) -> dict[str, Any]:
    return {"type": "Document", "mediaType": "image/png", "url": url, "name": "alt"}


def test_a_long_attachment_url_drops_that_attachment_only() -> None:
    note = parse_note(_note(attachment=[_image(LONG), _image(GOOD_IMAGE)]))
    assert [a.url for a in note.attachments] == [GOOD_IMAGE]
    assert note.content_html == "<p>hi</p>"


def test_a_long_attachment_link_in_a_list_falls_to_the_next_one() -> None:
    note = parse_note(_note(attachment=[_image([{"href": LONG}, {"href": GOOD_IMAGE}])]))
    assert [a.url for a in note.attachments] == [GOOD_IMAGE]


def test_bad_tags_are_dropped_and_the_good_ones_kept() -> None:
    tags = [
        {"type": "Mention", "href": LONG, "name": "@long@remote.test"},
        {"type": "Mention", "href": "https://remote.test/users/ann", "name": "@ann@remote.test"},
        {"type": "Emoji", "name": ":long:", "icon": {"type": "Image", "url": LONG}},
        {"type": "Emoji", "name": ":ok:", "icon": {"type": "Image", "url": GOOD_IMAGE}},
        {"type": "Hashtag", "name": "#" + "t" * 256},
        {"type": "Hashtag", "name": "#tokyo"},
    ]
    note = parse_note(_note(tag=tags))
    assert [m.href for m in note.mentions] == ["https://remote.test/users/ann"]
    assert [e.shortcode for e in note.emojis] == ["ok"]
    assert note.hashtags == ("tokyo",)


def test_a_long_page_url_or_quote_falls_back() -> None:
    note = parse_note(_note(url=LONG, quoteUrl=LONG))
    assert note.url == "https://remote.test/notes/1"
    assert note.quote is None


@pytest.mark.parametrize("key", ["id", "attributedTo", "inReplyTo", "audience"])
def test_required_and_structural_fields_over_the_limit_still_refuse(key: str) -> None:
    with pytest.raises(InvalidActivityError, match="longer than 2048"):
        parse_note(_note(**{key: LONG}))
