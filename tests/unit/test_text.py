"""Unit tests for kizuna.activitypub.text: counting, extraction, rendering (pure, no I/O)."""

from __future__ import annotations

import pytest

from kizuna.activitypub.text import (
    MAX_POST_CHARS,
    MentionRef,
    count_chars,
    extract_hashtags,
    extract_mentions,
    normalize_hashtag,
    render_plain,
)

LOCAL = "kizuna.test"
LINK = 'rel="nofollow noopener noreferrer" target="_blank"'
ALICE_URL = "https://kizuna.test/@alice"
BOB_URL = "https://remote.test/users/bob"


def fullwidth(ascii_text: str) -> str:
    """ASCII to fullwidth forms (U+FF01…), written this way so the source stays unambiguous."""
    return "".join(chr(ord(c) + 0xFEE0) for c in ascii_text)


def tag_url(tag: str) -> str:
    return f"https://kizuna.test/tags/{tag}"


def render(text: str, mentions: dict[MentionRef, str] | None = None) -> str:
    return render_plain(text, mention_urls=mentions or {}, tag_url=tag_url, local_domain=LOCAL)


# --- count_chars ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("hello", 5, id="ascii"),
        pytest.param("こんにちは", 5, id="hiragana"),
        pytest.param("カタカナ", 4, id="katakana"),
        pytest.param("東京都", 3, id="kanji"),
        pytest.param("e\u0301", 1, id="e_plus_combining_acute_is_one"),
        pytest.param("cafe\u0301", 4, id="decomposed_cafe"),
        pytest.param("か\u3099", 1, id="kana_plus_combining_dakuten_is_one"),
        pytest.param("👨\u200d👩\u200d👧\u200d👦", 1, id="zwj_family_emoji_is_one"),
        pytest.param("🏳\ufe0f\u200d🌈", 1, id="zwj_rainbow_flag_is_one"),
        pytest.param("🇯🇵", 1, id="flag_is_one"),
        pytest.param("🇯🇵🇫🇷", 2, id="two_flags_are_two"),
        pytest.param("👍🏽", 1, id="skin_tone_is_one"),
        pytest.param("1\ufe0f\u20e3", 1, id="keycap_is_one"),
        pytest.param("a\nb", 3, id="lf_is_one"),
        pytest.param("a\r\nb", 3, id="crlf_is_one"),
        pytest.param("a\n\nb", 4, id="blank_line_is_two"),
        pytest.param("東京2026 🗼!", 9, id="mixed"),
    ],
)
def test_count_chars__counts_graphemes(text: str, expected: int) -> None:
    assert count_chars(text) == expected


def test_count_chars__150_kanji_fit_the_limit() -> None:
    assert count_chars("字" * 150) == MAX_POST_CHARS == 150


# --- MentionRef ----------------------------------------------------------------------------


def test_mention_ref__acct_local_and_remote() -> None:
    assert MentionRef(username="Alice", domain=None).acct == "Alice"
    assert MentionRef(username="bob", domain="remote.test").acct == "bob@remote.test"


# --- extract_mentions ----------------------------------------------------------------------


def test_extract_mentions__local_and_remote() -> None:
    assert extract_mentions("hi @alice and @bob@Remote.Test!", local_domain=LOCAL) == (
        MentionRef(username="alice", domain=None),
        MentionRef(username="bob", domain="remote.test"),
    )


def test_extract_mentions__email_is_not_a_mention() -> None:
    assert extract_mentions("mail foo@bar.com or foo.bar@baz.test", local_domain=LOCAL) == ()


def test_extract_mentions__url_path_is_not_a_mention() -> None:
    assert extract_mentions("see https://x.test/@alice and x.test/@bob", local_domain=LOCAL) == ()


def test_extract_mentions__local_domain_folds_to_none() -> None:
    assert extract_mentions("@carol@Kizuna.TEST", local_domain=LOCAL) == (
        MentionRef(username="carol", domain=None),
    )


def test_extract_mentions__dedup_case_insensitive_keeps_first_spelling() -> None:
    text = "@Alice @alice @ALICE@kizuna.test @bob@r.test @Bob@R.TEST"
    assert extract_mentions(text, local_domain=LOCAL) == (
        MentionRef(username="Alice", domain=None),
        MentionRef(username="bob", domain="r.test"),
    )


def test_extract_mentions__trailing_punctuation_excluded() -> None:
    assert extract_mentions("thanks @al.ice. and (@bob@b.test.)", local_domain=LOCAL) == (
        MentionRef(username="al.ice", domain=None),
        MentionRef(username="bob", domain="b.test"),
    )


def test_extract_mentions__after_japanese_space_and_before_kana() -> None:
    assert extract_mentions("こんにちは\u3000@aliceさん", local_domain=LOCAL) == (
        MentionRef(username="alice", domain=None),
    )


# --- extract_hashtags ----------------------------------------------------------------------


def test_extract_hashtags__unicode_tags() -> None:
    assert extract_hashtags("#日本語 #東京2026 #café #Python_3") == (
        "日本語",
        "東京2026",
        "café",
        "python_3",
    )


def test_extract_hashtags__normalised_and_unique() -> None:
    text = f"#Café #CAFÉ #cafe\u0301 #{fullwidth('TOKYO')} #tokyo"
    assert extract_hashtags(text) == ("café", "tokyo")


def test_extract_hashtags__url_fragment_is_not_a_tag() -> None:
    text = "https://x.test/#frag https://x.test/page#frag x.test/#also"
    assert extract_hashtags(text) == ()


def test_extract_hashtags__numeric_only_is_not_a_tag() -> None:
    assert extract_hashtags(f"#2026 #{fullwidth('123')} #_1 #2026年") == ("2026年",)


def test_extract_hashtags__not_after_word_char() -> None:
    assert extract_hashtags("C#sharp a#b (#ok)") == ("ok",)


def test_normalize_hashtag__fullwidth_and_case() -> None:
    assert normalize_hashtag(fullwidth("KizunaTEST")) == "kizunatest"


# --- render_plain: structure ---------------------------------------------------------------


def test_render_plain__paragraphs_and_br() -> None:
    assert render("line1\nline2\n\npara2") == "<p>line1<br>line2</p><p>para2</p>"


def test_render_plain__crlf_and_cr_normalised() -> None:
    assert render("line1\r\nline2\r\n\r\n\r\npara2\rend") == (
        "<p>line1<br>line2</p><p>para2<br>end</p>"
    )


def test_render_plain__whitespace_only_line_separates_paragraphs() -> None:
    assert render("  a\n \t \nb  \n\n") == "<p>a</p><p>b</p>"


@pytest.mark.parametrize("text", ["", "   ", "\r\n\n\t"])
def test_render_plain__empty_text_is_empty(text: str) -> None:
    assert render(text) == ""


# --- render_plain: escaping (XSS boundary) ---------------------------------------------------


def test_render_plain__script_tag_escaped() -> None:
    assert render('<script>alert("x")</script>') == (
        "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>"
    )


def test_render_plain__attribute_breakout_escaped() -> None:
    assert render("\"><img src=x onerror='alert(1)'> & co") == (
        "<p>&quot;&gt;&lt;img src=x onerror=&#x27;alert(1)&#x27;&gt; &amp; co</p>"
    )


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://x.test/file",
    ],
)
def test_render_plain__non_http_scheme_not_linked(text: str) -> None:
    out = render(text)
    assert "<a" not in out
    assert "<script" not in out


def test_render_plain__quote_in_url_cannot_break_href() -> None:
    out = render('https://x.test/a"onmouseover="alert(1)')
    assert out == (
        f'<p><a href="https://x.test/a" {LINK}><span class="invisible">https://</span>'
        '<span class="">x.test/a</span></a>&quot;onmouseover=&quot;alert(1)</p>'
    )


def test_render_plain__apostrophe_in_url_escaped_in_href() -> None:
    out = render("https://x.test/Ender's_Game")
    assert 'href="https://x.test/Ender&#x27;s_Game"' in out


def test_render_plain__tag_url_output_escaped() -> None:
    out = render_plain("#x", mention_urls={}, tag_url=lambda t: f'/t/{t}"><script>')
    assert out == (
        '<p><a href="/t/x&quot;&gt;&lt;script&gt;" class="mention hashtag" rel="tag">'
        "#<span>x</span></a></p>"
    )


# --- render_plain: URLs ----------------------------------------------------------------------


def test_render_plain__short_url_with_trailing_period() -> None:
    assert render("see https://example.com.") == (
        f'<p>see <a href="https://example.com" {LINK}><span class="invisible">https://</span>'
        '<span class="">example.com</span></a>.</p>'
    )


def test_render_plain__long_url_truncated_like_mastodon() -> None:
    url = "https://example.com/a/very/long/path/that/goes/on?x=1&y=2"
    assert render(url) == (
        f'<p><a href="https://example.com/a/very/long/path/that/goes/on?x=1&amp;y=2" {LINK}>'
        '<span class="invisible">https://</span>'
        '<span class="ellipsis">example.com/a/very/long/path/t</span>'
        '<span class="invisible">hat/goes/on?x=1&amp;y=2</span></a></p>'
    )


@pytest.mark.parametrize("tail", [".", ",", "!", "?", ")", "!?", "...", ":", ";"])
def test_render_plain__trailing_ascii_punctuation_not_in_url(tail: str) -> None:
    out = render(f"go https://x.test/p{tail}")
    assert 'href="https://x.test/p"' in out
    assert out.endswith(f"</a>{tail}</p>")


@pytest.mark.parametrize("tail", ["。", "、", "」", "\uff09", "\uff01", "\uff1f"])
def test_render_plain__trailing_japanese_punctuation_not_in_url(tail: str) -> None:
    out = render(f"「https://x.test/p{tail}")
    assert 'href="https://x.test/p"' in out
    assert out.endswith(f"</a>{tail}</p>")


def test_render_plain__url_glued_to_japanese_text() -> None:
    out = render("詳細はhttps://x.test/aboutを見て。")
    assert out == (
        f'<p>詳細は<a href="https://x.test/about" {LINK}><span class="invisible">https://</span>'
        '<span class="">x.test/about</span></a>を見て。</p>'
    )


def test_render_plain__balanced_parens_kept_in_url() -> None:
    out = render("(see https://en.wikipedia.org/wiki/Python_(programming_language))")
    assert 'href="https://en.wikipedia.org/wiki/Python_(programming_language)"' in out
    assert out.endswith("</span></a>)</p>")


def test_render_plain__bare_scheme_not_linked() -> None:
    assert render("https://.") == "<p>https://.</p>"


def test_render_plain__url_fragment_not_a_hashtag_nor_mention() -> None:
    out = render("https://x.test/@alice#frag", {MentionRef(username="alice", domain=None): "u"})
    assert out.count("<a ") == 1
    assert 'href="https://x.test/@alice#frag"' in out


# --- render_plain: mentions and hashtags -----------------------------------------------------


def test_render_plain__known_mention_linked() -> None:
    mentions = {MentionRef(username="alice", domain=None): ALICE_URL}
    assert render("hi @Alice!", mentions) == (
        '<p>hi <span class="h-card" translate="no"><a href="https://kizuna.test/@alice"'
        ' class="u-url mention">@<span>Alice</span></a></span>!</p>'
    )


def test_render_plain__remote_mention_shows_username_only() -> None:
    mentions = {MentionRef(username="bob", domain="remote.test"): BOB_URL}
    assert render("@bob@Remote.test", mentions) == (
        '<p><span class="h-card" translate="no"><a href="https://remote.test/users/bob"'
        ' class="u-url mention">@<span>bob</span></a></span></p>'
    )


def test_render_plain__local_domain_mention_uses_local_key() -> None:
    mentions = {MentionRef(username="alice", domain=None): ALICE_URL}
    out = render("@alice@kizuna.test", mentions)
    assert f'href="{ALICE_URL}"' in out


def test_render_plain__unknown_mention_left_as_text() -> None:
    mentions = {MentionRef(username="alice", domain=None): ALICE_URL}
    assert render("@bob @alice@other.test foo@bar.com", mentions) == (
        "<p>@bob @alice@other.test foo@bar.com</p>"
    )


def test_render_plain__hashtag_linked() -> None:
    assert render("#Café と #東京2026 #2026") == (
        '<p><a href="https://kizuna.test/tags/café" class="mention hashtag" rel="tag">'
        "#<span>Café</span></a> と "
        '<a href="https://kizuna.test/tags/東京2026" class="mention hashtag" rel="tag">'
        "#<span>東京2026</span></a> #2026</p>"
    )


def test_render_plain__hashtag_url_and_mention_together() -> None:
    mentions = {MentionRef(username="alice", domain=None): ALICE_URL}
    out = render("@alice look #art\nhttps://x.test <b>", mentions)
    assert out == (
        '<p><span class="h-card" translate="no"><a href="https://kizuna.test/@alice"'
        ' class="u-url mention">@<span>alice</span></a></span> look '
        '<a href="https://kizuna.test/tags/art" class="mention hashtag" rel="tag">'
        f'#<span>art</span></a><br><a href="https://x.test" {LINK}>'
        '<span class="invisible">https://</span><span class="">x.test</span></a> &lt;b&gt;</p>'
    )
