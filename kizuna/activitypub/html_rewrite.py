"""Changing HTML after it was sanitised: parse it, change the tokens, write every piece escaped.

The rule for the whole code base: once `activitypub.html.sanitize` has run, HTML is changed
only through this parser (or built from pieces each passed through `html.escape`), never by
string formatting or regular expressions over the markup. A value taken from another server
(a username, a tag name, a URL) then always lands inside an attribute value or a text node,
escaped, and can never close the attribute or open an element.

`Rewriter` re-serialises what the standard library's tokenizer reads: tag and attribute names
as read (names outside `[a-z][a-z0-9-]*` are dropped), every attribute value quoted and
escaped, text escaped, comments and declarations dropped. Subclasses override `start` (change
an element's attributes, or replace the element) and `text` (turn a text node into HTML).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Final

__all__ = ["VOID_ELEMENTS", "Rewriter", "start_tag"]

VOID_ELEMENTS: Final = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    }
)  # fmt: skip
_NAME: Final = re.compile(r"[a-z][a-z0-9-]*")


def start_tag(tag: str, attrs: Sequence[tuple[str, str | None]]) -> str:
    """`<tag name="value" …>` with each value escaped; names that are not plain are left out."""
    parts = [tag]
    for name, value in attrs:
        if not _NAME.fullmatch(name):
            continue
        parts.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
    return f"<{' '.join(parts)}>"


class Rewriter(HTMLParser):
    """`Rewriter().rewrite(html)` gives the same HTML back, each piece re-escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._open: list[str] = []  # names of the elements the current text is inside

    def rewrite(self, content: str) -> str:
        self.reset()
        self._out, self._open = [], []
        self.feed(content)
        self.close()
        return "".join(self._out)

    # --- what subclasses change -----------------------------------------------------------

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        """HTML to write for a start tag; None writes the tag as read. A subclass returns
        `start_tag(tag, changed_attrs)`, or other escaped HTML to replace a void element."""
        return None

    def text(self, data: str, open_elements: Sequence[str]) -> str:
        """HTML for a text node (`data` is unescaped text)."""
        return html.escape(data, quote=False)

    # --- HTMLParser hooks ---------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not _NAME.fullmatch(tag):
            return
        written = self.start(tag, attrs)
        self._out.append(start_tag(tag, attrs) if written is None else written)
        if tag not in VOID_ELEMENTS:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS and _NAME.fullmatch(tag):
            self.handle_endtag(tag)  # `<span/>` opens a span in HTML: keep the tree balanced

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS or not _NAME.fullmatch(tag):
            return
        if tag in self._open:
            while self._open.pop() != tag:
                pass
        self._out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._out.append(self.text(data, self._open))
