"""The one check for redirect targets that come from a request (next=, Referer, form fields).

An open redirect lets a phishing link borrow our domain, and browsers are lenient readers of
a Location: they strip tab, CR and LF anywhere in it, read '\\' as '/', and so take
"/\\t/evil.example" or "/\\evil.example" for the scheme-relative "//evil.example". So only a
path that any reader can only take for a path on this site passes: printable ASCII, one
leading '/', no '\\' at all, and one that `urlsplit` parses back to itself; its path decoded
must not turn into "//…" or hold control characters either (for anything that decodes it
once more). Everything else is replaced by the fallback, not repaired.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

_PRINTABLE_ASCII = frozenset(map(chr, range(0x21, 0x7F))) - {"\\"}


def local_path(value: str) -> str | None:
    """`value` when it is a same-origin path that parses back to itself, else None."""
    if not value.startswith("/") or value.startswith("//"):
        return None
    if not all(c in _PRINTABLE_ASCII for c in value):
        return None  # whitespace and control characters, '\' (read as '/'), non-ASCII
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or urlunsplit(parts) != value:
        return None
    decoded = unquote(parts.path)
    if decoded.startswith(("//", "/\\")) or not all(_plain(c) for c in decoded):
        return None
    return value


def _plain(char: str) -> bool:
    return char.isprintable() and not char.isspace()


def safe_redirect(value: str, fallback: str = "/") -> str:
    """`value` if `local_path` accepts it, else `fallback` (which is ours, not the client's)."""
    return local_path(value) or fallback
