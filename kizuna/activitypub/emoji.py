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
from collections.abc import Mapping
from typing import Final

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
# A comment, or a tag whose quoted attribute values may hold ">" (html5lib does not escape it).
_HTML_TOKEN: Final = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.DOTALL)
_TAG_NAME: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_NO_EMOJI_IN: Final = frozenset({"code", "pre"})
# Exactly what `emoji_img` writes (its src and shortcode are escaped: no quote inside).
_OUR_IMG: Final = re.compile(
    r'<img class="emoji" src="[^"<>]*" alt=":([A-Za-z0-9_+\-]{1,64}):"'
    r' title=":\1:" draggable="false">'
)


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


def _replace_in_text(text: str, src_for: Mapping[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        src = src_for.get(match.group(1))
        return match.group(0) if src is None else emoji_img(match.group(1), src)

    return _IN_TEXT.sub(swap, text)


def emojify_html(content: str, src_for: Mapping[str, str]) -> str:
    """Sanitised HTML with each `:code:` in `src_for` (shortcode → image URL) drawn as an
    image, in text nodes only. Text nodes of sanitised HTML hold no `<` and no quotes that
    matter; entities (`&amp;`) hold no colon, so a shortcode never spans one."""
    if not src_for or ":" not in content:
        return content
    out: list[str] = []
    pos = 0
    skip = 0  # depth inside <code>/<pre>
    for token in _HTML_TOKEN.finditer(content):
        text = content[pos : token.start()]
        out.append(text if skip else _replace_in_text(text, src_for))
        out.append(token.group())
        pos = token.end()
        name = _TAG_NAME.match(token.group())
        if (
            name is not None
            and name.group(2).lower() in _NO_EMOJI_IN
            and not token.group().endswith("/>")
        ):
            skip = max(0, skip - 1) if name.group(1) else skip + 1
    tail = content[pos:]
    out.append(tail if skip else _replace_in_text(tail, src_for))
    return "".join(out)


def emojify_text(text: str, src_for: Mapping[str, str]) -> str:
    """Plain text (a display name) → escaped HTML, each `:code:` in `src_for` an image."""
    escaped = html.escape(text, quote=True)  # entities hold no colon
    return _replace_in_text(escaped, src_for) if src_for else escaped


def images_to_text(content: str) -> str:
    """Our emoji images back to `:code:` (for documents other servers read)."""
    return _OUR_IMG.sub(lambda m: f":{m.group(1)}:", content)
