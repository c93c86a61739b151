"""Plain-text posts: character counting, mention/hashtag extraction, Mastodon-style HTML.

Pure: no I/O, no clock. `render_plain` is an XSS boundary: every byte of input that is not
turned into a link/mention/hashtag by us goes through `html.escape(..., quote=True)`.

One tokenizer (`_TOKEN_RE`) serves extraction and rendering, so what we extract is exactly
what we link: a URL is consumed whole, hence `https://x.test/#frag` or `…/?u=@a` hold no tags
or mentions.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import regex  # type: ignore[import-untyped]  # ships neither stubs nor py.typed

from kizuna.activitypub.emoji import LOCAL_SHORTCODE_RE, emoji_img, find_shortcodes

MAX_POST_CHARS: Final = 150

_GRAPHEME_RE: Final = regex.compile(r"\X")

# Only http(s) is ever linked (never javascript:, data:, …). A URL stops at whitespace, at
# `<>"`, and at CJK text/punctuation, like twitter-text (which Mastodon uses): Japanese is
# written without spaces, so "詳細はhttps://x.test/aboutを見て。" must link only the URL.
# Browsers copy non-ASCII paths percent-encoded, so little is lost.
_URL = (
    r"(?<![A-Za-z0-9])"
    r"(?P<url>(?i:https?)://[^\s<>\"\p{Han}\p{Hangul}\u3000-\u30ff\uff00-\uffef]+)"
)
# Mastodon's MENTION_RE: not after a word char (e-mail "foo@bar.com"), `/` (URL paths like
# /@alice), `=`, `@` or `.`. Username [a-z0-9_] with `.`/`-` allowed only inside, as Mastodon;
# written as `x+([.-]+x+)*` (same language, no quadratic backtracking). The domain is a run of
# word chars joined by dots/hyphens, so a trailing "." is left out.
_MENTION = (
    r"(?<![\w/=@.])@(?P<user>[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)"
    r"(?:@(?P<domain>\w+(?:[.-]+\w+)*))?"
)
# Mastodon's HASHTAG_RE, simplified: any Unicode word chars (regex's \w includes combining
# marks, so decomposed "café" works), at least one letter (so "#2026" is not a tag), and not
# after a word char, `/`, `=` or `)`.
_HASHTAG = r"(?<![\w/=)])#(?P<tag>(?=\w*[^\W\d_])\w+)"

_TOKEN_RE: Final = regex.compile(f"{_URL}|{_MENTION}|{_HASHTAG}")
_BLANK_LINES_RE: Final = regex.compile(r"\n\s*\n")

# Sentence punctuation that ends a URL rather than belonging to it.
_URL_TRAILING: Final = frozenset(".,:;!?'*")
_URL_CLOSERS: Final = {")": "(", "]": "["}
_URL_DISPLAY_CHARS: Final = 30
_LINK_ATTRS: Final = 'rel="nofollow noopener noreferrer" target="_blank"'


@dataclass(frozen=True, slots=True, kw_only=True)
class MentionRef:
    """A mention as typed: `username` keeps its case; `domain` is lowercased, None if local."""

    username: str
    domain: str | None

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


def count_chars(text: str) -> int:
    """Characters as a person counts them: extended grapheme clusters (UAX #29).

    An emoji (ZWJ sequences, flags, skin tones included), a kana, a kanji, or a base letter
    plus its combining marks each count as one. Every line break counts as one, "\\r\\n"
    included (it is a single grapheme), so callers need not normalise line endings first.
    """
    return len(_GRAPHEME_RE.findall(text))


def normalize_hashtag(tag: str) -> str:
    """The form tags are stored and compared in: NFKC, casefolded, NFKC again.

    The first NFKC folds fullwidth Latin letters and digits (U+FF21…) to ASCII; the last
    recomposes what casefold() may decompose (e.g. "İ" -> "i" + U+0307).
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())


def extract_mentions(text: str, *, local_domain: str) -> tuple[MentionRef, ...]:
    """Mentions in order of first appearance, deduplicated case-insensitively."""
    seen: dict[tuple[str, str | None], MentionRef] = {}
    for match in _tokens(text):
        if match.group("user") is not None:
            ref = _mention_ref(match, local_domain)
            seen.setdefault(_mention_key(ref), ref)
    return tuple(seen.values())


def extract_hashtags(text: str) -> tuple[str, ...]:
    """Hashtags (without "#"), normalised by `normalize_hashtag`, unique, in order."""
    seen: dict[str, None] = {}
    for match in _tokens(text):
        if match.group("tag") is not None:
            seen.setdefault(normalize_hashtag(match.group("tag")), None)
    return tuple(seen)


def extract_shortcodes(text: str) -> tuple[str, ...]:
    """Custom emoji `:shortcode:`s (without colons) in the text outside URLs, mentions and
    hashtags, unique, in order: exactly those `render_plain` asks `emoji_url` about."""
    seen: dict[str, None] = {}
    for start, end in _plain_spans(text):
        for s, e in find_shortcodes(text, start, end):
            code = text[s + 1 : e - 1]
            if LOCAL_SHORTCODE_RE.fullmatch(code):
                seen.setdefault(code, None)
    return tuple(seen)


def render_plain(
    text: str,
    *,
    mention_urls: Mapping[MentionRef, str],
    tag_url: Callable[[str], str],
    local_domain: str | None = None,
    emoji_url: Callable[[str], str | None] | None = None,
) -> str:
    """Plain text to Mastodon-style HTML: `<p>line1<br>line2</p><p>para2</p>`.

    http(s) URLs, hashtags, and mentions found in `mention_urls` (username compared
    case-insensitively) become links; everything else is escaped. Pass `local_domain` so that
    "@alice@<local_domain>" finds the key `MentionRef(username="alice", domain=None)`.
    With `emoji_url`, each `:shortcode:` in the remaining text for which it returns an image
    URL becomes `<img class="emoji">` (see `extract_shortcodes`); the others stay text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    known = {_mention_key(ref): url for ref, url in mention_urls.items()}
    paragraphs = (
        "<br>".join(
            _render_line(line, known, tag_url, local_domain, emoji_url) for line in para.split("\n")
        )
        for para in _BLANK_LINES_RE.split(text)
    )
    return "".join(f"<p>{para}</p>" for para in paragraphs)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _tokens(text: str) -> Iterator[Any]:
    yield from _TOKEN_RE.finditer(text)


def _plain_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the text between tokens (URLs, mentions, hashtags)."""
    pos = 0
    for match in _tokens(text):
        yield pos, match.start()
        pos = match.end()
    yield pos, len(text)


def _text(line: str, start: int, end: int, emoji_url: Callable[[str], str | None] | None) -> str:
    """line[start:end], escaped, with known custom emoji as images."""
    if emoji_url is None:
        return _esc(line[start:end])
    out: list[str] = []
    pos = start
    for s, e in find_shortcodes(line, start, end):
        code = line[s + 1 : e - 1]
        src = emoji_url(code) if LOCAL_SHORTCODE_RE.fullmatch(code) else None
        if src is not None:
            out.append(_esc(line[pos:s]))
            out.append(emoji_img(code, src))
            pos = e
    out.append(_esc(line[pos:end]))
    return "".join(out)


def _mention_ref(match: Any, local_domain: str | None) -> MentionRef:
    domain: str | None = match.group("domain")
    if domain is not None:
        domain = domain.lower()
        if local_domain is not None and domain == local_domain.lower():
            domain = None
    return MentionRef(username=match.group("user"), domain=domain)


def _mention_key(ref: MentionRef) -> tuple[str, str | None]:
    return (ref.username.lower(), ref.domain.lower() if ref.domain else None)


def _render_line(
    line: str,
    known: dict[tuple[str, str | None], str],
    tag_url: Callable[[str], str],
    local_domain: str | None,
    emoji_url: Callable[[str], str | None] | None,
) -> str:
    out: list[str] = []
    pos = 0
    for match in _tokens(line):
        out.append(_text(line, pos, match.start(), emoji_url))
        pos = match.end()
        token: str = match.group()
        if match.group("url") is not None:
            url = _trim_url(token)
            out.append(_render_url(url) + _esc(token[len(url) :]))
        elif match.group("tag") is not None:
            tag: str = match.group("tag")
            href = _esc(tag_url(normalize_hashtag(tag)))
            out.append(
                f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{_esc(tag)}</span></a>'
            )
        else:
            url_or_none = known.get(_mention_key(_mention_ref(match, local_domain)))
            if url_or_none is None:  # not resolved by the caller: stays text
                out.append(_esc(token))
            else:
                out.append(
                    f'<span class="h-card" translate="no"><a href="{_esc(url_or_none)}"'
                    f' class="u-url mention">@<span>{_esc(match.group("user"))}</span></a></span>'
                )
    out.append(_text(line, pos, len(line), emoji_url))
    return "".join(out)


def _trim_url(url: str) -> str:
    """Drop trailing punctuation; keep a ")" or "]" only if it closes one inside the URL."""
    counts = {c: url.count(c) for c in "()[]"}  # counted once: trimming stays linear
    end = len(url)
    while end:
        last = url[end - 1]
        opener = _URL_CLOSERS.get(last)
        unbalanced = opener is not None and counts[opener] < counts[last]
        if last not in _URL_TRAILING and not unbalanced:
            break
        if opener is not None:
            counts[last] -= 1
        end -= 1
    return url[:end]


def _render_url(url: str) -> str:
    prefix, sep, rest = url.partition("://")
    if not rest:  # "https://" followed only by punctuation: not a link
        return _esc(url)
    prefix += sep
    if len(rest) > _URL_DISPLAY_CHARS:  # Mastodon's link_html: CSS shows "first 30…"
        shown = (
            f'<span class="ellipsis">{_esc(rest[:_URL_DISPLAY_CHARS])}</span>'
            f'<span class="invisible">{_esc(rest[_URL_DISPLAY_CHARS:])}</span>'
        )
    else:
        shown = f'<span class="">{_esc(rest)}</span>'
    return (
        f'<a href="{_esc(url)}" {_LINK_ATTRS}><span class="invisible">{_esc(prefix)}</span>'
        f"{shown}</a>"
    )
