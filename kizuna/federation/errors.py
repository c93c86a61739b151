"""The transport subtree of kizuna.errors (FetchError: talking to another server failed) and
the refusals between servers (ForbiddenError). Drawn whole in kizuna.errors' docstring."""

from __future__ import annotations

from kizuna.errors import KizunaError, PermissionDeniedError

__all__ = [
    "DomainPolicyFetchError",
    "DomainRefusedError",
    "FetchError",
    "ForbiddenError",
    "IdentityMismatchError",
    "NotAnImageError",
    "NotJsonError",
    "ObjectGoneError",
    "ObjectNotFoundError",
    "PeerUnavailableError",
    "ResponseTooLargeError",
    "TooManyRedirectsError",
    "UnsafeAddressError",
]


class ForbiddenError(PermissionDeniedError):
    pass


class DomainRefusedError(ForbiddenError):
    """`reason` is "suspended" or "not allow-listed" (counted on the federation dashboard)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FetchError(KizunaError):
    """Fetching `url` failed; `url` is kept for logs (never a body or a key)."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ObjectGoneError(FetchError):
    pass


class ObjectNotFoundError(FetchError):
    pass


class PeerUnavailableError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class NotJsonError(FetchError):
    pass


class NotAnImageError(FetchError):
    pass


class DomainPolicyFetchError(FetchError):
    """Never retried: it lasts until an admin changes the policy."""


class UnsafeAddressError(FetchError):
    pass


class TooManyRedirectsError(FetchError):
    pass


class IdentityMismatchError(FetchError):
    pass
