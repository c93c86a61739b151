"""Errors raised by the ActivityPub codecs, the federation client and the inbox.

Each class carries `status`: the HTTP status the web layer answers with when the error
escapes while handling one of *our* requests (one middleware maps them; handlers do not).

    ApError                        500  base class, never raised directly
    ├── InvalidActivityError       400  a document we were sent or fetched is malformed
    │   └── InvalidJsonError       400  not JSON at all, or nested deeper than we parse
    ├── SignatureError             401  missing / invalid / unverifiable HTTP signature
    ├── ForbiddenError             403  authenticated, but not allowed (blocked domain, …)
    │   └── DomainRefusedError     403  the instance's domain policy refuses this server
    │                                   (suspended, or not allow-listed); `reason` says which
    └── FetchError                 502  fetching a remote document failed (base class)
        ├── ObjectGoneError        410  the peer answered 410 Gone (deleted object/actor)
        ├── ObjectNotFoundError    404  the peer answered 404
        ├── PeerUnavailableError   502  timeout, connection error, 5xx, 429
        ├── ResponseTooLargeError  502  body over our size cap
        ├── NotJsonError           502  body or Content-Type is not (activity+)JSON
        ├── NotAnImageError        502  a fetched image (custom emoji) is no PNG/GIF/WebP/JPEG
        ├── TooManyRedirectsError  502  redirect chain longer than we follow
        ├── DomainPolicyFetchError 403  our own policy forbids contacting that server
        ├── UnsafeAddressError     400  SSRF refusal: the URL resolves to a private,
        │                               loopback or otherwise non-public address
        └── IdentityMismatchError  403  the document is not who it claims to be: actor
                                        id host ≠ fetched host, keyId owner ≠ actor,
                                        WebFinger subject on another domain

Choice of statuses for the FetchError family: 502 ("the upstream failed us") wherever the
failure is the peer's and could change later. The exceptions: 410/404 pass the peer's
answer through; `UnsafeAddressError` is 400 and `IdentityMismatchError` 403 because
retrying can never succeed, and a 4xx other than 401/408/429 tells Mastodon's
DeliveryWorker not to retry (a 5xx would make it retry for days).
"""

from __future__ import annotations

__all__ = [
    "ApError",
    "DomainPolicyFetchError",
    "DomainRefusedError",
    "FetchError",
    "ForbiddenError",
    "IdentityMismatchError",
    "InvalidActivityError",
    "InvalidJsonError",
    "NotAnImageError",
    "NotJsonError",
    "ObjectGoneError",
    "ObjectNotFoundError",
    "PeerUnavailableError",
    "ResponseTooLargeError",
    "SignatureError",
    "TooManyRedirectsError",
    "UnsafeAddressError",
]


class ApError(Exception):
    """Base of every ActivityPub error; `status` is the HTTP status to answer with."""

    status: int = 500


class InvalidActivityError(ApError):
    status = 400


class InvalidJsonError(InvalidActivityError):
    """Raised by kizuna.activitypub.jsonload; a fetch maps it to NotJsonError."""


class SignatureError(ApError):
    status = 401


class ForbiddenError(ApError):
    status = 403


class DomainRefusedError(ForbiddenError):
    """`reason` is "suspended" or "not allow-listed" (counted on the federation dashboard)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FetchError(ApError):
    """Fetching `url` failed; `url` is kept for logs (never a body or a key)."""

    status = 502

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ObjectGoneError(FetchError):
    status = 410


class ObjectNotFoundError(FetchError):
    status = 404


class PeerUnavailableError(FetchError):
    status = 502


class ResponseTooLargeError(FetchError):
    status = 502


class NotJsonError(FetchError):
    status = 502


class NotAnImageError(FetchError):
    status = 502


class DomainPolicyFetchError(FetchError):
    """Never retried: it lasts until an admin changes the policy."""

    status = 403


class UnsafeAddressError(FetchError):
    status = 400


class TooManyRedirectsError(FetchError):
    status = 502


class IdentityMismatchError(FetchError):
    status = 403
