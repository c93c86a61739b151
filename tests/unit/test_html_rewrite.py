"""HTML changed after sanitising goes through a parser; remote usernames are usernames."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest

from kizuna.activitypub.actors import parse_actor
from kizuna.activitypub.emoji import emoji_img, emojify_html, emojify_text, images_to_text
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.html import sanitize
from kizuna.activitypub.html_rewrite import Rewriter, start_tag
from kizuna.federation.lookup import _subject_domain
from kizuna.inbox.notes import localise_links
from kizuna.storage.models import Account
from tests.unit.datafiles import peer_payload

HOSTILE = '"><meta http-equiv=refresh content=0;url=//evil.example>'


class Elements(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def test_localise_links__hostile_username_stays_inside_the_href() -> None:
    evil = Account(username=HOSTILE, domain="x.test", uri="https://x.test/u/e", url=None)
    content = sanitize('<p>hi <a href="https://x.test/u/e" class="mention">@e</a></p>')
    out = localise_links(content, [evil], ())
    assert Elements(out).found == [
        ("p", {}),
        (
            "a",
            {
                "href": f"/@{HOSTILE}@x.test",
                "class": "mention",
                "rel": "nofollow noopener noreferrer",
                "target": "_blank",
            },
        ),
    ]


def test_localise_links__hostile_tag_name_stays_inside_the_href() -> None:
    tag = 'x"><img src=x onerror=pwned()>'
    href = html.escape(f"https://m.test/tags/{tag}", quote=True)
    content = sanitize(f'<p><a href="{href}" class="hashtag">#x</a></p>')
    found = Elements(localise_links(content, [], (tag,))).found
    assert [name for name, _ in found] == ["p", "a"]
    assert found[1][1]["href"] == "/tags/x%22%3E%3Cimg%20src%3Dx%20onerror%3Dpwned%28%29%3E"


@pytest.mark.parametrize(
    "content",
    [
        "<p>a &amp; b &lt;c&gt; \"q\" 's'<br>next</p>",
        '<p><a href="https://x.test/?a=1&amp;b=2" rel="nofollow noopener noreferrer" '
        'target="_blank"><span class="invisible">https://</span>x</a></p>',
        "<ul><li>one</li><li><code>:two:</code></li></ul><blockquote><p>q</p></blockquote>",
    ],
)
def test_rewriter__sanitised_html_comes_back_the_same(content: str) -> None:
    assert Rewriter().rewrite(sanitize(content)) == sanitize(content)


def test_rewriter__attribute_values_written_escaped() -> None:
    class Swap(Rewriter):
        def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
            return start_tag(tag, [(n, HOSTILE) for n, _ in attrs])

    out = Swap().rewrite('<p><a href="https://x.test/" onclick="x">t</a></p>')
    assert Elements(out).found == [("p", {}), ("a", {"href": HOSTILE, "onclick": HOSTILE})]


def test_emoji__shortcodes_drawn_in_text_only_and_pieces_escaped() -> None:
    src = '/e.png"><script>x()</script>'
    out = emojify_html(sanitize("<p>&lt;b&gt; :blob: <code>:blob:</code></p>"), {"blob": src})
    assert out == f"<p>&lt;b&gt; {emoji_img('blob', src)} <code>:blob:</code></p>"
    assert [name for name, _ in Elements(out).found] == ["p", "img", "code"]
    assert (
        emojify_text("<i>:blob:", {"blob": "/e.png"}) == f"&lt;i&gt;{emoji_img('blob', '/e.png')}"
    )


def test_images_to_text__only_our_images_become_their_shortcode() -> None:
    ours = emoji_img("blob", "/e.png")
    forged = '<img class="emoji" src="/x.png" alt=":a:&lt;script&gt;">'
    out = images_to_text(f"<p>{ours} {forged}</p>")
    assert out.startswith("<p>:blob: <img ")
    assert [name for name, _ in Elements(out).found] == ["p", "img"]


@pytest.mark.parametrize(
    "username", ["alice", "Alice_1", "mastodon.example", "a-b.c_d", "_", "kizuna.test"]
)
def test_parse_actor__usernames_mastodon_accepts(username: str) -> None:
    doc: dict[str, Any] = {**peer_payload("mastodon-actor.json"), "preferredUsername": username}
    assert parse_actor(doc).preferred_username == username


@pytest.mark.parametrize(
    "username", [HOSTILE, "a b", "-a", "a.", "a/b", "a@b", "<b>", "ゆき", "a\nb", ".."]
)
def test_parse_actor__other_usernames_refused(username: str) -> None:
    doc: dict[str, Any] = {**peer_payload("mastodon-actor.json"), "preferredUsername": username}
    with pytest.raises(InvalidActivityError, match="preferredUsername is not a username"):
        parse_actor(doc)


def test_subject_domain__not_a_host_name_counts_as_absent() -> None:
    assert _subject_domain("acct:a@Social.Example", "x.test") == "social.example"
    assert _subject_domain("acct:a@b.test:8443", "x.test") == "b.test:8443"
    assert _subject_domain(f"acct:a@{HOSTILE}", "x.test") == "x.test"
    assert _subject_domain("acct:a@b.test/<x>", "x.test") == "x.test"
