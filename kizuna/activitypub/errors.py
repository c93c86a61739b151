"""The protocol subtree of kizuna.errors: what a peer sent breaks the rules of ActivityPub
or of HTTP signatures. (Transport failures are kizuna.federation.errors'.)"""

from __future__ import annotations

from kizuna.errors import KizunaError

__all__ = [
    "InvalidActivityError",
    "InvalidJsonError",
    "ProtocolError",
    "SignatureError",
]


class ProtocolError(KizunaError):
    """Base of the protocol errors, never raised directly."""


class InvalidActivityError(ProtocolError):
    pass


class InvalidJsonError(InvalidActivityError):
    """Raised by kizuna.activitypub.jsonload; a fetch maps it to NotJsonError."""


class SignatureError(ProtocolError):
    pass
