"""Sanitising remote HTML (notes, bios, profile fields) with bleach, once, at parse time.

Modelled on Mastodon's `MASTODON_STRICT` config (app/lib/sanitize_config.rb) with a few more
block elements: an allow-list of tags; `a` keeps href/rel/class, `span` keeps class; classes
are filtered to the ones Mastodon's own HTML uses; every link gets
rel="nofollow noopener noreferrer" and target="_blank"; a link whose href is not an absolute
http(s) URL is unwrapped to its text. Elements whose content is code or embedded documents
(script, style, iframe, svg, …; the Sanitize gem's `remove_contents` default) are removed
with their content instead of leaving it behind as text.

The output is the only remote HTML a template may mark `|safe`.

Before bleach parses anything, `check_html_cost` bounds the parse with one linear scan:
html5lib's tree builder is quadratic in the nesting depth (every start tag and text node
scans the stack of open and active formatting elements), so 33,000 nested `<b>` in a 100 kB
post took seconds of CPU. HTML nested deeper than MAX_HTML_DEPTH or holding more than
MAX_HTML_TAGS tags is refused, not cut (cutting markup changes its meaning). Nokogiri's HTML5
parser, which Mastodon's sanitiser uses, refuses trees deeper than 400 in the same way
(`max_tree_depth`); real posts nest a handful of elements.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import bleach

from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.vocab import is_http_url

if TYPE_CHECKING:  # bleach's stubs type filters against html5lib; at run time bleach
    from html5lib.filters.base import Filter  # vendors html5lib and re-exports Filter.
else:
    from bleach.html5lib_shim import Filter

__all__ = [
    "ALLOWED_CLASSES",
    "ALLOWED_TAGS",
    "LINK_REL",
    "MAX_HTML_DEPTH",
    "MAX_HTML_TAGS",
    "check_html_cost",
    "sanitize",
]

ALLOWED_TAGS: Final = frozenset(
    {
        "p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u",
        "ul", "ol", "li", "blockquote",
    }
)  # fmt: skip
ALLOWED_CLASSES: Final = frozenset(
    {"h-card", "invisible", "ellipsis", "mention", "hashtag", "u-url"}
)
LINK_REL: Final = "nofollow noopener noreferrer"
MAX_HTML_DEPTH: Final = 100
MAX_HTML_TAGS: Final = 10_000  # '<' characters: one every 10 characters of a 100 kB post

# Let through the sanitizer only so that `_PostFilter` can drop them *with* their content.
_DROP_WITH_CONTENT: Final = frozenset(
    {
        "script", "style", "iframe", "noscript", "noembed", "noframes", "plaintext", "xmp",
        "template", "svg", "math", "object",
    }
)  # fmt: skip
_ATTRIBUTES: Final = {"a": ["href", "rel", "class"], "span": ["class"]}
_HREF: Final = (None, "href")
_CLASS: Final = (None, "class")
_local = threading.local()
# A tag's start as a tokenizer sees it; matching stops at the name, so a run of unclosed
# `<a x<a x…` is still scanned once.
_TAG_START: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_VOID: Final = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    }
)  # fmt: skip
# A start tag of one of these closes an open one of the same name (HTML's implied end tags).
_SIBLINGS: Final = frozenset({"p", "li", "dt", "dd", "option", "tr", "td", "th"})
_TABLE_PARTS: Final = frozenset(
    {"table", "caption", "colgroup", "tbody", "thead", "tfoot", "tr", "td", "th"}
)


def sanitize(html: str, what: str = "HTML") -> str:
    """Remote HTML → HTML safe to embed in our pages; raises `InvalidActivityError` (naming
    `what`) for HTML too deeply nested or holding too many tags to parse cheaply."""
    if not html:
        return ""
    check_html_cost(html, what)
    return _cleaner().clean(html)


def check_html_cost(html: str, what: str = "HTML") -> None:
    """Refuse HTML whose parse would cost more than real posts need, in time linear in its
    length. The depth is counted from above: an end tag closes only the innermost open
    element (or an unclosed `<p>`/`<li>`… and its parent); a stray or misnested one closes
    nothing, so misnesting that makes html5lib reopen formatting elements counts at least
    as deep as html5lib builds it."""
    tags = html.count("<")
    if tags > MAX_HTML_TAGS:
        raise InvalidActivityError(f"{what} has {tags} tags (at most {MAX_HTML_TAGS})")
    open_elements: list[str] = []
    depth = 0
    for match in _TAG_START.finditer(html):
        name = match.group(2).lower()
        if match.group(1):
            innermost = open_elements[-2:]  # an end tag closes one of these or nothing
            if innermost[-1:] == [name]:
                depth -= _weight(open_elements.pop())
            elif innermost[:1] == [name] and innermost[-1] in _SIBLINGS:
                depth -= _weight(open_elements.pop()) + _weight(open_elements.pop())
        elif name not in _VOID:
            if name in _SIBLINGS and open_elements[-1:] == [name]:
                continue
            open_elements.append(name)
            depth += _weight(name)
            if depth > MAX_HTML_DEPTH:
                raise InvalidActivityError(
                    f"{what} is nested more than {MAX_HTML_DEPTH} elements deep"
                )


def _weight(name: str) -> int:
    # A table part opens the part it must sit in too (`<table><td>` builds tbody and tr).
    return 2 if name in _TABLE_PARTS else 1


def _cleaner() -> bleach.Cleaner:
    # A Cleaner keeps parser state between calls (bleach: not thread-safe): one per thread.
    cleaner: bleach.Cleaner | None = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS | _DROP_WITH_CONTENT,
            attributes=_ATTRIBUTES,
            protocols=("http", "https"),
            strip=True,
            strip_comments=True,
            filters=[_PostFilter],
        )
        _local.cleaner = cleaner
    return cleaner


def _filtered_classes(value: str) -> str:
    return " ".join(name for name in value.split() if name in ALLOWED_CLASSES)


class _PostFilter(Filter):
    """Runs on the token stream after bleach's sanitizer (which already dropped every
    attribute not in `_ATTRIBUTES` and every href with another scheme)."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        dropping = 0  # depth inside _DROP_WITH_CONTENT elements
        unwrapped: list[bool] = []  # per open <a>: was its start tag dropped?
        for token in super().__iter__():
            kind = token["type"]
            name = token.get("name")
            if name in _DROP_WITH_CONTENT and kind in ("StartTag", "EndTag", "EmptyTag"):
                if kind == "StartTag":
                    dropping += 1
                elif kind == "EndTag":
                    dropping = max(0, dropping - 1)
                continue
            if dropping:
                continue
            if name == "a" and kind == "StartTag":
                link = _link_token(token)
                unwrapped.append(link is None)
                if link is not None:
                    yield link
            elif name == "a" and kind == "EndTag":
                if not (unwrapped.pop() if unwrapped else False):
                    yield token
            elif name == "span" and kind == "StartTag":
                yield {**token, "data": _class_only(token["data"])}
            else:
                yield token


def _class_only(data: dict[tuple[str | None, str], str]) -> dict[tuple[str | None, str], str]:
    classes = _filtered_classes(data.get(_CLASS, ""))
    return {_CLASS: classes} if classes else {}


def _link_token(token: dict[str, Any]) -> dict[str, Any] | None:
    data: dict[tuple[str | None, str], str] = token["data"]
    href = data.get(_HREF, "")
    if not is_http_url(href):
        return None
    attrs = {_HREF: href, **_class_only(data)}
    attrs[(None, "rel")] = LINK_REL
    attrs[(None, "target")] = "_blank"
    return {**token, "data": attrs}
