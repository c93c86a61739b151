"""Signature algorithms by their RFC 9421 §6.2 registry names, and the shared time window.

Supported: rsa-v1_5-sha256 (what every fediverse peer uses), rsa-pss-sha512 (verify only;
RFC 9421 §3.3.1: MGF1-SHA-512, 64-byte salt), ed25519. HMAC and ECDSA are refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from kizuna.activitypub.errors import SignatureError

from .keys import PrivateKeyType, PublicKeyType
from .message import utc

__all__ = [
    "CLOCK_SKEW_MARGIN",
    "DEFAULT_LIFETIME",
    "EXPIRATION_WINDOW_LIMIT",
    "RSA_ALGORITHMS",
    "SUPPORTED_ALGORITHMS",
    "algorithm_for_key",
    "check_algorithm",
    "check_time_window",
    "sign_bytes",
    "verify_bytes",
]

RSA_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "rsa-pss-sha512"})
SUPPORTED_ALGORITHMS = RSA_ALGORITHMS | {"ed25519"}

# Mastodon SignedRequest: CLOCK_SKEW_MARGIN = 1.hour, EXPIRATION_WINDOW_LIMIT = 12.hours, and a
# signature without `expires` lives 5.minutes (app/lib/signed_request.rb, matches_time_window?).
CLOCK_SKEW_MARGIN = timedelta(hours=1)
EXPIRATION_WINDOW_LIMIT = timedelta(hours=12)
DEFAULT_LIFETIME = timedelta(minutes=5)


def algorithm_for_key(key: PublicKeyType | PrivateKeyType) -> str:
    """The algorithm a key implies when the signature names none."""
    return "ed25519" if isinstance(key, Ed25519PublicKey | Ed25519PrivateKey) else "rsa-v1_5-sha256"


def sign_bytes(private_key: PrivateKeyType, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 for RSA keys (deterministic), Ed25519 otherwise."""
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key.sign(data)
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def check_algorithm(public_key: PublicKeyType, algorithm: str) -> None:
    """Raise SignatureError unless `algorithm` is supported and fits the key's type."""
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm}")
    is_rsa = isinstance(public_key, RSAPublicKey)
    if is_rsa != (algorithm in RSA_ALGORITHMS):
        kind = "an RSA" if is_rsa else "an Ed25519"
        raise SignatureError(f"algorithm {algorithm} does not match {kind} key")


def verify_bytes(public_key: PublicKeyType, algorithm: str, signature: bytes, data: bytes) -> None:
    """Raise SignatureError unless `signature` over `data` verifies with `algorithm`."""
    check_algorithm(public_key, algorithm)
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, data)
        elif algorithm == "rsa-pss-sha512":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
            public_key.verify(signature, data, pss, hashes.SHA512())
        else:
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("signature does not verify") from exc


def check_time_window(*, created: datetime, expires: datetime | None, now: datetime) -> None:
    """Mastodon's window: `created` at most 1 h ahead of `now`; the signature lives until
    `expires` (default created + 5 min, capped at created + 12 h), plus 1 h of clock skew."""
    created, now = utc(created), utc(now)
    if created > now + CLOCK_SKEW_MARGIN:
        raise SignatureError("signature created in the future")
    end = utc(expires) if expires is not None else created + DEFAULT_LIFETIME
    end = min(end, created + EXPIRATION_WINDOW_LIMIT)
    if now > end + CLOCK_SKEW_MARGIN:
        raise SignatureError("signature expired")
