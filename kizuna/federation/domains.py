"""Domain names as moderation keys: normalised once, matched with their subdomains. Pure.

A policy on `example.com` covers `example.com` and every `*.example.com` (Mastodon's
DomainBlock.rule_for walks the same suffixes), so `*.example.com` in an import is the same rule.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from urllib.parse import urlsplit

__all__ = ["DomainError", "covering", "host_of", "normalize_domain", "suffixes"]

_LABEL_OK = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class DomainError(ValueError):
    """The text is not a domain a policy can be about (says why)."""


def normalize_domain(text: str) -> str:
    """Lowercase punycode without wildcard or trailing dot. A URL is reduced to its host;
    a port or a path on a bare name is refused (a policy is about a whole domain)."""
    raw = text.strip()
    if not raw:
        raise DomainError("the domain is empty")
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.port is not None:
            raise DomainError(f"{raw[:100]!r}: a policy covers a whole domain, not one port")
        raw = parts.hostname or ""
    elif "/" in raw or "?" in raw or "#" in raw:
        raise DomainError(f"{raw[:100]!r}: give a domain, not a path")
    if raw.startswith("*."):
        raw = raw[2:]
    raw = raw.rstrip(".")
    if raw.startswith("[") or raw.replace(".", "").isdigit():
        raise DomainError(f"{raw[:100]!r}: an IP address, not a domain name")
    if ":" in raw:
        raise DomainError(f"{text.strip()[:100]!r}: a policy covers a whole domain, not one port")
    try:
        ascii_name = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise DomainError(f"{raw[:100]!r} is not a valid domain name") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or (len(labels) < 2 and ascii_name != "localhost"):
        raise DomainError(f"{raw[:100]!r} is not a full domain name")
    for label in labels:
        if not label or len(label) > 63 or not set(label) <= _LABEL_OK:
            raise DomainError(f"{raw[:100]!r} is not a valid domain name")
        if label.startswith("-") or label.endswith("-"):
            raise DomainError(f"{raw[:100]!r} is not a valid domain name")
    return ascii_name


def host_of(url: str) -> str:
    """The lower-cased host of a URL ("" when it has none): whose server sent or signed it."""
    return (urlsplit(url).hostname or "").lower()


def suffixes(host: str) -> Iterator[str]:
    """`a.b.example.com` → itself, `b.example.com`, `example.com`, `com`."""
    name = host.lower().rstrip(".")
    while name:
        yield name
        _, _, name = name.partition(".")


def covering(host: str, domains: Container[str]) -> str | None:
    """The most specific of `domains` (a set or dict: O(1) lookups) that covers `host`."""
    for candidate in suffixes(host):
        if candidate in domains:
            return candidate
    return None
