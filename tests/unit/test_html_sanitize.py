"""Unit tests for kizuna.activitypub.html.sanitize: remote HTML → safe HTML (pure, no I/O)."""

from __future__ import annotations

import pytest

from kizuna.activitypub.html import sanitize
from tests.unit.datafiles import peer_payload

LINK = 'rel="nofollow noopener noreferrer" target="_blank"'

# What Mastodon's formatter emits (payloads/mastodon-create-note.json).
MASTODON_CONTENT = peer_payload("mastodon-create-note.json")["object"]["content"]


def test_sanitize__mastodon_mention_and_hashtag_kept() -> None:
    assert sanitize(MASTODON_CONTENT) == (
        '<p><span class="h-card">'
        f'<a href="https://kizuna.example/@bob" class="u-url mention" {LINK}>@<span>bob</span></a>'
        "</span> welcome! "
        f'<a href="https://mastodon.example/tags/kizuna" class="mention hashtag" {LINK}>'
        "#<span>kizuna</span></a></p>"
    )


def test_sanitize__mastodon_long_link_spans_kept() -> None:
    html = (
        '<a href="https://example.test/a/very/long/path" target="_blank" '
        'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.test/a/very/lo</span>'
        '<span class="invisible">ng/path</span></a>'
    )

    assert sanitize(html) == (
        f'<a href="https://example.test/a/very/long/path" {LINK}>'
        '<span class="invisible">https://</span>'
        '<span class="ellipsis">example.test/a/very/lo</span>'
        '<span class="invisible">ng/path</span></a>'
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param("<script>alert(1)</script>hi", "hi", id="script_with_content"),
        pytest.param("<SCRIPT SRC=//evil.test/x.js></SCRIPT>hi", "hi", id="script_uppercase"),
        pytest.param("<p>a<script>alert(1)", "<p>a</p>", id="script_unclosed"),
        pytest.param("<style>body{display:none}</style>hi", "hi", id="style_element"),
        pytest.param('<img src="x" onerror="alert(1)">hi', "hi", id="img_onerror"),
        pytest.param('<iframe src="https://evil.test">x</iframe>hi', "hi", id="iframe"),
        pytest.param("<svg><script>alert(1)</script><text>t</text></svg>hi", "hi", id="svg"),
        pytest.param("<math><mi>x</mi></math>hi", "hi", id="math"),
        pytest.param("<noscript><p>n</p></noscript>hi", "hi", id="noscript"),
        pytest.param("<object data=x>fallback</object>hi", "hi", id="object"),
        pytest.param('<p style="color:red" onclick="x()">hi</p>', "<p>hi</p>", id="style_attr"),
        pytest.param(
            '<span style="x" class="h-card">hi</span>',
            '<span class="h-card">hi</span>',
            id="span_style_attr",
        ),
        pytest.param('<a href="javascript:alert(1)">hi</a>', "hi", id="javascript_href"),
        pytest.param('<a href="JaVaScRiPt:alert(1)">hi</a>', "hi", id="javascript_mixed_case"),
        pytest.param(
            '<a href="java&#x09;script:alert(1)">hi</a>', "hi", id="javascript_entity_tab"
        ),
        pytest.param('<a href="data:text/html,<script>x</script>">hi</a>', "hi", id="data_href"),
        pytest.param('<a href="vbscript:x">hi</a>', "hi", id="vbscript_href"),
        pytest.param('<a href="/users/alice">hi</a>', "hi", id="relative_href"),
        pytest.param('<a href="//evil.test/x">hi</a>', "hi", id="protocol_relative_href"),
        pytest.param("<a>hi</a>", "hi", id="no_href"),
        pytest.param("<!-- secret -->hi", "hi", id="comment"),
        pytest.param('<form action="x"><input name="y">hi</form>', "hi", id="form"),
        pytest.param("<p>1 < 2 & 3</p>", "<p>1 &lt; 2 &amp; 3</p>", id="text_escaped"),
        pytest.param("&lt;script&gt;", "&lt;script&gt;", id="escaped_stays_escaped"),
        pytest.param("", "", id="empty"),
    ],
)
def test_sanitize__hostile_html(html: str, expected: str) -> None:
    assert sanitize(html) == expected


def test_sanitize__link_gets_rel_and_target_overridden() -> None:
    html = '<a href="https://a.test/" rel="me" target="_self" onclick="x()" id="y">a</a>'

    assert sanitize(html) == f'<a href="https://a.test/" {LINK}>a</a>'


def test_sanitize__unknown_classes_dropped() -> None:
    html = '<span class="h-card status__content invisible">x</span><span class="big">y</span>'

    assert sanitize(html) == '<span class="h-card invisible">x</span><span>y</span>'


def test_sanitize__link_classes_filtered() -> None:
    html = '<a href="https://a.test/" class="u-url mention button--danger">a</a>'

    assert sanitize(html) == f'<a href="https://a.test/" class="u-url mention" {LINK}>a</a>'


def test_sanitize__allowed_formatting_kept() -> None:
    html = (
        "<p><strong>s</strong> <b>b</b> <em>e</em> <i>i</i> <u>u</u> <del>d</del>"
        " <code>c</code><br></p><pre>p</pre><blockquote>q</blockquote>"
        "<ul><li>x</li></ul><ol><li>y</li></ol>"
    )

    assert sanitize(html) == html


def test_sanitize__disallowed_tags_stripped_text_kept() -> None:
    result = sanitize("<div><h1>Title</h1><table><tr><td>cell</td></tr></table></div>")

    assert "<" not in result
    assert result.split() == ["Title", "cell"]


def test_sanitize__is_idempotent() -> None:
    samples = [
        MASTODON_CONTENT,
        '<a href="https://a.test/" class="x">a</a><script>x</script>',
        "<p>1 < 2 & 3</p>",
    ]

    for html in samples:
        once = sanitize(html)
        assert sanitize(once) == once
