"""Per-process rate limits: token buckets keyed by client IP, user or sender domain.

Each limit allows `count` actions per `period`, refilled continuously, with a burst of the
whole count (a bucket starts full). Memory stays bounded: a bucket that has refilled is the
same as no bucket and is dropped by a periodic sweep, and past `max_keys` the least recently
used keys go first. Limits live in one process; several `kizuna serve` processes each count
on their own, which only makes the effective limit that many times higher.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from kizuna.config import Config
from kizuna.server.json import json_response

MAX_KEYS = 10_000

LimitName = Literal["signup", "login", "post", "inbox"]


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    count: int  # 0: unlimited
    period: float  # seconds
    message: str  # shown with the wait, e.g. "Too many log-in attempts"

    @property
    def rate(self) -> float:
        return self.count / self.period


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


class TokenBuckets:
    """One limit's buckets. `take(key)` → None when allowed, else the seconds to wait."""

    def __init__(
        self,
        limit: Limit,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._swept = clock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float | None:
        limit = self.limit
        if limit.count <= 0:
            return None
        now = self.clock()
        if now - self._swept >= limit.period:
            self.sweep()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self.sweep()
                while self._buckets and len(self._buckets) >= self.max_keys:
                    self._buckets.popitem(last=False)  # least recently used
            bucket = _Bucket(float(limit.count), now)
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(
                float(limit.count), bucket.tokens + (now - bucket.updated) * limit.rate
            )
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / limit.rate

    def sweep(self) -> None:
        """Drop the buckets that have refilled: forgetting them changes nothing."""
        now = self.clock()
        self._swept = now
        limit = self.limit
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * limit.rate >= limit.count
        ]
        for key in full:
            del self._buckets[key]


class RateLimits:
    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.trusted_proxy = config.trusted_proxy
        # Mastodon's defaults (config/initializers/rack_attack.rb): 25 log-ins per IP per
        # 5 minutes. Sign-ups per hour and posts per minute are ours.
        self.signup = TokenBuckets(
            Limit("signup", config.rate_signup, 3600.0, "Too many sign-up attempts"),
            clock=clock,
        )
        self.login = TokenBuckets(
            Limit("login", config.rate_login, 300.0, "Too many log-in attempts"), clock=clock
        )
        self.post = TokenBuckets(
            Limit("post", config.rate_post, 60.0, "You are posting too fast"), clock=clock
        )
        self.inbox = TokenBuckets(
            Limit("inbox", config.rate_inbox, 60.0, "Too many requests from your server"),
            clock=clock,
        )

    def buckets(self, name: LimitName) -> TokenBuckets:
        return {"signup": self.signup, "login": self.login, "post": self.post}.get(name, self.inbox)


rate_limits_key = web.AppKey("rate_limits", RateLimits)


def client_ip(request: web.Request, *, trusted_proxy: bool) -> str:
    """The address to count: the peer, or behind a trusted proxy the hop it saw last.

    IPv6 clients count per /64, as Mastodon's throttleable_remote_ip does: one host
    usually holds a whole /64, so a per-address limit would be no limit at all.
    """
    address = request.remote or ""
    if trusted_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            address = last
    return address_key(address)


def address_key(address: str) -> str:
    """One client's key: an IPv4 address, or an IPv6 /64. An IPv4 client of a dual-stack
    socket (bound to ::) arrives as ::ffff:a.b.c.d and counts as a.b.c.d, not as one /64
    shared by every IPv4 client."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def _wait_message(limit: Limit, wait: float, *, who: str = "") -> tuple[str, int]:
    """What to say and the seconds to wait, in whole seconds (never 0: "now" would just
    repeat the flood). `who` narrows the message, e.g. " from your address"."""
    seconds = max(1, math.ceil(wait))
    return f"{limit.message}{who}. Try again in {in_words(seconds)}.", seconds


def in_words(seconds: int) -> str:
    """A wait as people say it: seconds under a minute, else whole minutes, rounded up
    (Retry-After keeps the exact seconds)."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def too_many(limit: Limit, wait: float) -> web.Response:
    """A JSON 429 with Retry-After (pages use `take`: their form comes back saying why)."""
    message, seconds = _wait_message(limit, wait)
    response = json_response({"error": message}, status=429)
    response.headers["Retry-After"] = str(seconds)
    return response


def check(request: web.Request, name: LimitName, key: str) -> web.Response | None:
    """None when the action may go ahead, else the 429 to answer with."""
    buckets = request.app[rate_limits_key].buckets(name)
    wait = buckets.take(key)
    if wait is None:
        return None
    return too_many(buckets.limit, wait)


def take(request: web.Request, name: LimitName, key: str) -> tuple[str, int] | None:
    """None when the action may go ahead, else what to say and the seconds to wait: for a
    form that comes back with what was typed rather than a page of its own."""
    buckets = request.app[rate_limits_key].buckets(name)
    wait = buckets.take(key)
    return None if wait is None else _wait_message(buckets.limit, wait)


def take_ip(request: web.Request, name: LimitName) -> tuple[str, int] | None:
    """`take` for the client's address (log-in, sign-up): the form comes back with what
    was typed, saying the address is what is limited."""
    limits = request.app[rate_limits_key]
    buckets = limits.buckets(name)
    wait = buckets.take(client_ip(request, trusted_proxy=limits.trusted_proxy))
    return None if wait is None else _wait_message(buckets.limit, wait, who=" from your address")
