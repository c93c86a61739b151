"""The one HTTP client for federation: timeouts, size caps, re-checked redirects, SSRF guard.

Lab hosts (Config.federation_hosts) are reached over plain HTTP at their mapped address with
the original Host header, so ids and signatures keep the public https:// name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp

from kizuna.activitypub import jsonload
from kizuna.activitypub.errors import InvalidJsonError
from kizuna.activitypub.vocab import ACTIVITY_JSON, JsonObject, host_of
from kizuna.federation import bodies
from kizuna.federation.addresses import check_literal
from kizuna.federation.errors import (
    DomainPolicyFetchError,
    FetchError,
    ForbiddenError,
    NotJsonError,
    ObjectGoneError,
    ObjectNotFoundError,
    PeerUnavailableError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsafeAddressError,
)
from kizuna.federation.signatures import load_private_key_pem, sign_cavage, sign_rfc9421
from kizuna.keys import PrivateKey

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JSON_TYPES = (
    "application/activity+json",
    "application/ld+json",
    "application/json",
    "application/jrd+json",
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchLimits:
    total_seconds: float = 10.0
    connect_seconds: float = 5.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSigner:
    """Who signs: a local actor's key (the instance actor's for fetches)."""

    key_id: str
    private_key: PrivateKey


class InstanceKey:
    """The instance actor's key, which signs every fetch. That actor is a database row read
    (or made, on first start) by `Services.start()`, after construction: building has no
    database round trip, and `kizuna migrate` builds the services before the table exists.
    So the client is handed this slot when built, and start-up loads it; until then (and in
    commands that never start) fetches go unsigned."""

    def __init__(self) -> None:
        self.signer: RequestSigner | None = None

    def load(self, key_id: str, private_key_pem: str) -> None:
        self.signer = RequestSigner(
            key_id=key_id, private_key=load_private_key_pem(private_key_pem)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PostResult:
    status: int
    scheme: str  # the signature scheme of the last attempt
    retried: bool  # True when the first scheme was refused and the other one tried
    body: str  # the start of the answer, for delivery logs
    retry_after: str | None = None


class SchemeMemory(Protocol):
    """Remembers per domain which signature scheme a peer accepted (double-knocking)."""

    async def scheme_for(self, domain: str) -> str | None: ...

    def preload(self, schemes: dict[str, str | None]) -> None: ...

    async def remember(self, domain: str, scheme: str) -> None: ...


class DomainGate(Protocol):
    """The federation policy as the client sees it (kizuna.federation.policy)."""

    async def refusal(self, host: str, *, media: bool = False) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedJson:
    url: str  # after redirects: identity checks compare against this
    doc: JsonObject


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedBytes:
    url: str  # after redirects
    content_type: str  # as the peer declared it, lower-cased ("" when absent)
    body: bytes = field(repr=False)


class FederationClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        user_agent: str,
        host_map: Mapping[str, tuple[str, int]],
        allow_private: bool,
        instance_key: InstanceKey,
        schemes: SchemeMemory,
        gate: DomainGate,
        limits: FetchLimits | None = None,
    ) -> None:
        self.session = session
        self.user_agent = user_agent
        self.host_map = host_map
        self.allow_private = allow_private
        self.instance_key = instance_key
        self.schemes = schemes
        self.gate = gate
        self.limits = limits or FetchLimits()

    @property
    def signer(self) -> RequestSigner | None:
        return self.instance_key.signer

    async def _check_policy(self, url: str, *, media: bool = False) -> None:
        await self.check_host(_host(url), media=media)

    async def media_allowed(self, host: str) -> bool:
        """False where the domain policy rejects that server's media (avatars, emoji…)."""
        return await self.gate.refusal(host, media=True) is None

    async def check_host(self, host: str, *, media: bool = False) -> None:
        """DomainPolicyFetchError if the domain policy forbids contacting `host`."""
        reason = await self.gate.refusal(host, media=media)
        if reason is not None:
            raise DomainPolicyFetchError(f"not contacting {host}: {reason} by this server")

    def _target(self, url: str) -> tuple[str, dict[str, str]]:
        """The URL to connect to and the extra headers, after the SSRF and lab-map checks."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("https", "http") or not host:
            raise UnsafeAddressError(f"not a fetchable URL: {url[:200]}")
        mapped = self.host_map.get(host)
        if mapped is not None:
            address, port = mapped
            netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            plain = urlunsplit(("http", netloc, parts.path or "/", parts.query, ""))
            return plain, {"Host": host}
        if parts.scheme == "http" and not self.allow_private:
            raise UnsafeAddressError(f"refusing plain http for {host}")
        check_literal(host, allow_private=self.allow_private)
        return urlunsplit(parts._replace(fragment="")), {}

    async def get_json(self, url: str, *, accept: str = AP_ACCEPT) -> FetchedJson:
        final, content_type, body = await self._get(
            url, accept=accept, max_bytes=self.limits.max_bytes, signed=True
        )
        return FetchedJson(url=final, doc=_parse_json(final, content_type, body))

    async def get_bytes(
        self, url: str, *, max_bytes: int, accept: str, media: bool = False
    ) -> FetchedBytes:
        """A file (an emoji image, …) with the same guards as `get_json`: SSRF refusal at
        every hop, timeouts, a redirect limit, and a size cap of `max_bytes` (checked on the
        declared length and again while reading). Unsigned: it is not an ActivityPub fetch,
        and media hosts (object storage, CDNs) are often not the actor's server. `media`:
        refused as well where the domain policy rejects media."""
        final, content_type, body = await self._get(
            url, accept=accept, max_bytes=max_bytes, signed=False, media=media
        )
        return FetchedBytes(url=final, content_type=content_type, body=body)

    async def _get(
        self, url: str, *, accept: str, max_bytes: int, signed: bool, media: bool = False
    ) -> tuple[str, str, bytes]:
        """(URL after redirects, lower-cased media type, body) of a successful GET."""
        limits = self.limits
        timeout = aiohttp.ClientTimeout(
            total=limits.total_seconds, sock_connect=limits.connect_seconds
        )
        current = url
        for _ in range(limits.max_redirects + 1):
            target, extra = self._target(current)
            await self._check_policy(current, media=media)
            headers = {"Accept": accept, "User-Agent": self.user_agent, **extra}
            signer = self.signer
            if signed and signer is not None:
                # Always signed, as GoToSocial and authorized-fetch Mastodon require.
                headers.update(
                    sign_cavage(
                        method="GET",
                        url=_without_fragment(current),
                        headers=headers,
                        body=None,
                        key_id=signer.key_id,
                        private_key=signer.private_key,
                        now=datetime.now(UTC),
                    )
                )
            try:
                async with self.session.get(
                    target, headers=headers, allow_redirects=False, timeout=timeout
                ) as response:
                    if response.status in REDIRECTS:
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchError(f"{current} redirected without a Location")
                        current = urljoin(current, location)
                        continue
                    _check_status(current, response.status)
                    body = await _read_capped(response, max_bytes, current)
                    return current, response.content_type.lower(), body
            except TimeoutError:
                raise PeerUnavailableError(f"{_host(current)} did not answer in time") from None
            except aiohttp.ClientError as exc:
                raise PeerUnavailableError(f"{_host(current)} is unreachable: {exc}") from None
        raise TooManyRedirectsError(f"{url} redirected more than {limits.max_redirects} times")

    async def post_signed(self, url: str, body: bytes, signer: RequestSigner) -> PostResult:
        """POST an activity; on 400/401 retry once with the other signature scheme.

        Cavage first (every peer speaks it), RFC 9421 as the second knock, as Mastodon 4.5
        does; the scheme that worked is remembered per domain. Errors other than the HTTP
        status (timeouts, refused connections, SSRF) raise FetchError subclasses.
        """
        domain = _host(url)
        remembered = await self.schemes.scheme_for(domain)
        first = remembered or "cavage"
        result = await self._post_once(url, body, signer, first)
        if result.status not in (400, 401):
            if result.status < 300 and remembered != first:
                await self.schemes.remember(domain, first)
            return result
        second = "rfc9421" if first == "cavage" else "cavage"
        retry = await self._post_once(url, body, signer, second)
        if retry.status < 300:
            await self.schemes.remember(domain, second)
        return PostResult(
            status=retry.status,
            scheme=second,
            retried=True,
            body=retry.body,
            retry_after=retry.retry_after,
        )

    async def _post_once(
        self, url: str, body: bytes, signer: RequestSigner, scheme: str
    ) -> PostResult:
        target, extra = self._target(url)
        await self._check_policy(url)
        headers = {
            "Content-Type": ACTIVITY_JSON,
            "Accept": AP_ACCEPT,
            "User-Agent": self.user_agent,
            **extra,
        }
        sign = sign_cavage if scheme == "cavage" else sign_rfc9421
        headers.update(
            sign(
                method="POST",
                url=_without_fragment(url),
                headers=headers,
                body=body,
                key_id=signer.key_id,
                private_key=signer.private_key,
                now=datetime.now(UTC),
            )
        )
        timeout = aiohttp.ClientTimeout(
            total=self.limits.total_seconds, sock_connect=self.limits.connect_seconds
        )
        try:
            async with self.session.post(
                target, data=body, headers=headers, allow_redirects=False, timeout=timeout
            ) as response:
                answer = await bodies.read_start(response.content, 2048)
                return PostResult(
                    status=response.status,
                    scheme=scheme,
                    retried=False,
                    body=answer.decode("utf-8", "replace"),
                    retry_after=response.headers.get("Retry-After"),
                )
        except TimeoutError:
            raise PeerUnavailableError(f"{_host(url)} did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise PeerUnavailableError(f"{_host(url)} is unreachable: {exc}") from None


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _host(url: str) -> str:
    """For messages and the per-server scheme memory: the URL itself when it has no host."""
    return host_of(url) or url


def _check_status(url: str, status: int) -> None:
    if 200 <= status < 300:
        return
    if status == 404:
        raise ObjectNotFoundError(f"{url} was not found")
    if status == 410:
        raise ObjectGoneError(f"{url} is gone")
    if status in (401, 403):
        raise ForbiddenError(f"{_host(url)} refused the request ({status})")
    if status == 429 or status >= 500:
        raise PeerUnavailableError(f"{_host(url)} answered {status}")
    raise FetchError(f"{_host(url)} answered {status} for {url}")


async def _read_capped(response: aiohttp.ClientResponse, limit: int, url: str) -> bytes:
    if response.content_length is not None and response.content_length > limit:
        raise ResponseTooLargeError(f"{_host(url)} sent {response.content_length} bytes")
    body = await bodies.read_capped(response.content, limit)
    if body is None:
        raise ResponseTooLargeError(f"{_host(url)} sent more than {limit} bytes")
    return body


def _parse_json(url: str, media_type: str, body: bytes) -> JsonObject:
    if media_type not in JSON_TYPES:
        raise NotJsonError(f"{_host(url)} answered {media_type or 'no content type'}, not JSON")
    try:
        doc = jsonload.loads(body)
    except InvalidJsonError as exc:
        raise NotJsonError(f"{_host(url)} sent unusable JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise NotJsonError(f"{_host(url)} sent JSON that is not an object")
    return doc
