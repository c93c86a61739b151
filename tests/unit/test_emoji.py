"""Custom emoji, pure parts: drawing `:shortcode:` in text and HTML, the Emoji tags of a
note, which icon URLs may be fetched, which image kinds an emoji may be."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kizuna.activitypub.emoji import emoji_img, emojify_html, emojify_text, images_to_text
from kizuna.activitypub.notes import NoteView, note_json
from kizuna.activitypub.reactions import EmojiTag
from kizuna.activitypub.text import extract_shortcodes, render_plain
from kizuna.errors import ValidationError
from kizuna.federation.errors import UnsafeAddressError
from kizuna.services.custom_emoji import LOCAL_KINDS, check_icon_url
from kizuna.services.media import image_extension
from tests.fakes.images import GIF, JPEG, WEBP, png

KNOWN = {"blob": "/media/emoji/blob-1.png", "ねこ": "/x", "odd": '/m/"><script>.png'}


def _render(text: str) -> str:
    return render_plain(text, mention_urls={}, tag_url=lambda t: f"/tags/{t}", emoji_url=KNOWN.get)


def test_render_plain__known_shortcode_becomes_image() -> None:
    assert _render("hi :blob:!") == (
        '<p>hi <img class="emoji" src="/media/emoji/blob-1.png" alt=":blob:" title=":blob:"'
        ' draggable="false">!</p>'
    )


def test_render_plain__unknown_shortcode_and_no_emoji_url_stay_text() -> None:
    assert _render(":cat: :blob") == "<p>:cat: :blob</p>"
    plain = render_plain(":blob:", mention_urls={}, tag_url=lambda t: t)
    assert plain == "<p>:blob:</p>"


@pytest.mark.parametrize(
    "text",
    [
        "https://x.test/:blob:/y",  # inside a URL
        "a:blob:",  # glued to a letter
        "12:blob:3",  # glued to digits
        "#tag:blob:",  # right after a hashtag: the boundary sees the tag's last letter
    ],
)
def test_render_plain__shortcode_not_drawn_where_it_is_not_one(text: str) -> None:
    assert "<img" not in _render(text)
    assert extract_shortcodes(text) == ()


def test_render_plain__adjacent_and_cjk_neighbours_are_drawn() -> None:
    html = _render(":blob::blob:すごい:blob:")
    assert html.count('<img class="emoji"') == 3


def test_render_plain__image_src_is_escaped() -> None:
    html = _render(":odd:")
    assert "<script>" not in html
    assert 'src="/m/&quot;&gt;&lt;script&gt;.png"' in html


def test_render_plain__only_valid_local_shortcodes_are_asked_for() -> None:
    asked: list[str] = []

    def url(code: str) -> str | None:
        asked.append(code)
        return None

    render_plain(
        ":a: :ok_1: :with-dash: :" + "x" * 65 + ":",
        mention_urls={},
        tag_url=lambda t: t,
        emoji_url=url,
    )
    assert asked == ["ok_1"]


def test_extract_shortcodes__unique_in_order_outside_tokens() -> None:
    text = ":b2: @alice :a1: :b2:\nhttps://x.test/:zz: #t :c3: @bob:no:"
    assert extract_shortcodes(text) == ("b2", "a1", "c3")


def test_emojify_html__text_nodes_only() -> None:
    content = (
        '<p>:blob: <a href="https://x.test/:blob:" title="a > :blob:">:blob:</a></p>'
        "<pre>:blob:</pre><p><code>:blob:</code> :nope: :blob:</p>"
    )
    out = emojify_html(content, {"blob": "/e.png"})
    img = emoji_img("blob", "/e.png")
    assert out == (
        f'<p>{img} <a href="https://x.test/:blob:" title="a &gt; :blob:">{img}</a></p>'
        f"<pre>:blob:</pre><p><code>:blob:</code> :nope: {img}</p>"
    )


def test_emojify_html__misskey_style_shortcodes() -> None:
    out = emojify_html("<p>:blob_cat+1: :a-b:</p>", {"blob_cat+1": "/1.png", "a-b": "/2.png"})
    assert out.count("<img") == 2


def test_images_to_text__round_trip_of_our_own_images() -> None:
    html = _render("x :blob: y :cat:")
    assert images_to_text(html) == "<p>x :blob: y :cat:</p>"


def test_emojify_text__name_escaped_then_drawn() -> None:
    assert emojify_text("<b>:blob:</b>", {"blob": "/e.png"}) == (
        f"&lt;b&gt;{emoji_img('blob', '/e.png')}&lt;/b&gt;"
    )
    assert emojify_text("a & b", {}) == "a &amp; b"


def _note(emojis: tuple[EmojiTag, ...]) -> NoteView:
    return NoteView(
        id="https://a.test/users/alice/statuses/1",
        url="https://a.test/@alice/1",
        attributed_to="https://a.test/users/alice",
        content_html="<p>:blob:</p>",
        summary=None,
        sensitive=False,
        visibility="public",
        followers_url="https://a.test/users/alice/followers",
        published=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated=None,
        in_reply_to=None,
        mentions=(),
        hashtags=(),
        language=None,
        emojis=emojis,
    )


def test_note_json__carries_emoji_tags() -> None:
    tag = EmojiTag(
        id="https://a.test/emoji/blob",
        shortcode="blob",
        url="https://a.test/media/emoji/blob-1.png",
        media_type="image/png",
        updated="2026-01-01T00:00:00Z",
    )
    assert note_json(_note((tag,)))["tag"] == [
        {
            "id": "https://a.test/emoji/blob",
            "type": "Emoji",
            "name": ":blob:",
            "icon": {
                "type": "Image",
                "mediaType": "image/png",
                "url": "https://a.test/media/emoji/blob-1.png",
            },
            "updated": "2026-01-01T00:00:00Z",
        }
    ]
    assert note_json(_note(()))["tag"] == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/e.png",
        "https://10.1.2.3/e.png",  # SSRF refusal: a private address, checked, never fetched
        "https://[::1]/e.png",
        "https://169.254.169.254/latest/meta-data",  # refused (SSRF)
        "https://localhost/e.png",
        "https://cdn.localhost/e.png",
        "http://files.example.com/e.png",  # plain http
        "https://user:pw@files.example.com/e.png",
        "ftp://files.example.com/e.png",
        "https:///e.png",
        "https://files.example.com:99999/e.png",
        "https://files.example.com/" + "a" * 2100,
    ],
)
def test_check_icon_url__ssrf_refusal_of_private_and_local_targets(url: str) -> None:
    """SSRF refusal: these URLs are only checked, never fetched (no network here)."""
    with pytest.raises(UnsafeAddressError):
        check_icon_url(url, allow_private=False)


def test_check_icon_url__public_https_any_host_allowed_fragment_dropped() -> None:
    assert check_icon_url("https://s3.example.net/m/e.png#x", allow_private=False) == (
        "https://s3.example.net/m/e.png"
    )
    assert check_icon_url("https://8.8.8.8/e.png", allow_private=False) == "https://8.8.8.8/e.png"


def test_check_icon_url__lab_mode_allows_http_and_loopback() -> None:
    assert check_icon_url("http://127.0.0.1:8080/e.png", allow_private=True)
    with pytest.raises(UnsafeAddressError):
        check_icon_url("ftp://127.0.0.1/e.png", allow_private=True)


@pytest.mark.parametrize(("data", "ext"), [(png(), "png"), (GIF, "gif"), (WEBP, "webp")])
def test_image_extension__emoji_kinds(data: bytes, ext: str) -> None:
    assert image_extension(data, allowed=LOCAL_KINDS, field="image") == ext


def test_image_extension__jpeg_refused_for_emoji_with_clear_message() -> None:
    with pytest.raises(ValidationError, match=r"^the image must be PNG, GIF or WebP$") as info:
        image_extension(JPEG, allowed=LOCAL_KINDS, field="image")
    assert info.value.field == "image"
    assert image_extension(JPEG) == "jpg"  # avatars still take it
