"""The parts of a request that signatures cover: lowercased headers, URL pieces, HTTP dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from kizuna.activitypub.errors import SignatureError

__all__ = [
    "RequestUrl",
    "from_timestamp",
    "http_date",
    "lower_headers",
    "parse_http_date",
    "split_url",
    "utc",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lowercased, values stripped; names differing only in case are combined
    with ", " as RFC 9110 §5.3 does for repeated field lines."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value.strip()}" if key in out else value.strip()
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestUrl:
    scheme: str  # lowercased
    host: str  # lowercased, IPv6 in brackets
    port: int | None  # None when absent or the scheme's default
    raw_authority: str  # as written in the URL, without userinfo
    path: str  # "/" when empty
    query: str | None  # without "?"; None when absent

    @property
    def authority(self) -> str:
        """Host, plus ":port" only when the port is not the scheme's default."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def path_qs(self) -> str:
        return self.path if self.query is None else f"{self.path}?{self.query}"

    @property
    def target_uri(self) -> str:
        return f"{self.scheme}://{self.raw_authority}{self.path_qs}"


def split_url(url: str) -> RequestUrl:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SignatureError(f"bad request URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise SignatureError("request URL must be absolute http(s)")
    host = parts.hostname  # urlsplit lowercases it and drops IPv6 brackets
    if ":" in host:
        host = f"[{host}]"
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    query = parts.query if parts.query or url.split("#", 1)[0].endswith("?") else None
    return RequestUrl(
        scheme=scheme,
        host=host,
        port=port,
        raw_authority=parts.netloc.rpartition("@")[2],
        path=parts.path or "/",
        query=query,
    )


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive datetimes are refused (pure code never guesses a zone)."""
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC)


def http_date(moment: datetime) -> str:
    """IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sat, 07 Jun 2025 20:51:35 GMT"."""
    return format_datetime(utc(moment).replace(microsecond=0), usegmt=True)


def parse_http_date(value: str) -> datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError("invalid Date header") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_timestamp(seconds: int, name: str) -> datetime:
    """A `created` / `expires` parameter (Unix seconds) as a UTC datetime."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError(f"invalid {name} parameter") from exc
