"""Sanitising remote HTML (notes, bios, profile fields) with bleach, once, at parse time.

Modelled on Mastodon's `MASTODON_STRICT` config (app/lib/sanitize_config.rb) with a few more
block elements: an allow-list of tags; `a` keeps href/rel/class, `span` keeps class; classes
are filtered to the ones Mastodon's own HTML uses; every link gets
rel="nofollow noopener noreferrer" and target="_blank"; a link whose href is not an absolute
http(s) URL is unwrapped to its text. Elements whose content is code or embedded documents
(script, style, iframe, svg, …; the Sanitize gem's `remove_contents` default) are removed
with their content instead of leaving it behind as text.

The output is the only remote HTML a template may mark `|safe`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import bleach

from kizuna.activitypub.vocab import is_http_url

if TYPE_CHECKING:  # bleach's stubs type filters against html5lib; at run time bleach
    from html5lib.filters.base import Filter  # vendors html5lib and re-exports Filter.
else:
    from bleach.html5lib_shim import Filter

__all__ = ["ALLOWED_CLASSES", "ALLOWED_TAGS", "LINK_REL", "sanitize"]

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


def sanitize(html: str) -> str:
    """Remote HTML → HTML safe to embed in our pages."""
    if not html:
        return ""
    return _cleaner().clean(html)


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
