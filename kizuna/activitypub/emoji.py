"""Custom emoji in text and HTML (pure): `:shortcode:` ↔ `<img class="emoji">`.

Three places meet here:
- our own posts are plain text; `kizuna.activitypub.text.render_plain` calls `emoji_img`
  for each known `:shortcode:` outside links, mentions and hashtags;
- other servers' posts arrive as HTML sanitised by `activitypub.html.sanitize` (no `<img>`,
  no comments, every attribute quoted); `emojify_html` replaces shortcodes in its text
  nodes only, never inside a tag or its attributes, nor inside `<code>`/`<pre>`;
- what we send keeps the shortcode as text (peers strip `<img>` and draw their own from the
  note's `Emoji` tags): `images_to_text` turns our images back into `:shortcode:`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Final

from kizuna.activitypub.html_rewrite import Rewriter

__all__ = [
    "LOCAL_SHORTCODE_RE",
    "REMOTE_SHORTCODE_RE",
    "emoji_img",
    "emojify_html",
    "emojify_text",
    "find_shortcodes",
    "images_to_text",
]

# Ours: what an admin may name an emoji.
LOCAL_SHORTCODE_RE: Final = re.compile(r"[A-Za-z0-9_]{2,64}")
# Other servers': Mastodon's [\w]+, Misskey adds + and -.
REMOTE_SHORTCODE_RE: Final = re.compile(r"[A-Za-z0-9_+\-]{1,64}")
# `:code:` not glued to a Latin letter or digit on either side ("12:30:45" holds none), as
# Mastodon's EmojiFormatter; CJK text may touch it ("すごい:blobcat:").
_IN_TEXT: Final = re.compile(r"(?<![A-Za-z0-9]):([A-Za-z0-9_+\-]{1,64}):(?![A-Za-z0-9])")
_NO_EMOJI_IN: Final = frozenset({"code", "pre"})
# The alt text `emoji_img` writes.
_OUR_ALT: Final = re.compile(r":[A-Za-z0-9_+\-]{1,64}:")


def emoji_img(shortcode: str, src: str) -> str:
    """The image for one emoji; `alt` keeps the shortcode for copying and screen readers."""
    code = html.escape(f":{shortcode}:", quote=True)
    return (
        f'<img class="emoji" src="{html.escape(src, quote=True)}" alt="{code}"'
        f' title="{code}" draggable="false">'
    )


def find_shortcodes(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of `:code:` in text[start:end] (each span includes the colons);
    the boundary looks at the characters around the slice too."""
    return [m.span() for m in _IN_TEXT.finditer(text, start, len(text) if end is None else end)]


def _draw(text: str, src_for: Mapping[str, str]) -> str:
    """Plain text → HTML: each piece escaped, each `:code:` in `src_for` an image."""
    out: list[str] = []
    pos = 0
    for match in _IN_TEXT.finditer(text):
        src = src_for.get(match.group(1))
        if src is not None:
            out.append(html.escape(text[pos : match.start()], quote=True))
            out.append(emoji_img(match.group(1), src))
            pos = match.end()
    out.append(html.escape(text[pos:], quote=True))
    return "".join(out)


class _EmojiDrawer(Rewriter):
    def __init__(self, src_for: Mapping[str, str]) -> None:
        super().__init__()
        self.src_for = src_for

    def text(self, data: str, open_elements: Sequence[str]) -> str:
        if _NO_EMOJI_IN.intersection(open_elements):
            return super().text(data, open_elements)
        return _draw(data, self.src_for)


class _ImagesToText(Rewriter):
    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        found = dict(attrs)
        alt = found.get("alt") or ""
        if tag == "img" and found.get("class") == "emoji" and _OUR_ALT.fullmatch(alt):
            return alt  # `:code:` holds nothing to escape (checked)
        return None


def emojify_html(content: str, src_for: Mapping[str, str]) -> str:
    """Sanitised HTML with each `:code:` in `src_for` (shortcode → image URL) drawn as an
    image, in text nodes only (never in attributes, nor inside `<code>`/`<pre>`): the HTML
    is parsed and written back escaped (`html_rewrite`)."""
    if not src_for or ":" not in content:
        return content
    return _EmojiDrawer(src_for).rewrite(content)


def emojify_text(text: str, src_for: Mapping[str, str]) -> str:
    """Plain text (a display name) → escaped HTML, each `:code:` in `src_for` an image."""
    return _draw(text, src_for)


def images_to_text(content: str) -> str:
    """Our emoji images back to `:code:` (for documents other servers read)."""
    if "<img" not in content:
        return content
    return _ImagesToText().rewrite(content)
