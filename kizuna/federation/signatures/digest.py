"""Body digests: `Digest` (RFC 3230, what cavage signs) and `Content-Digest` (RFC 9530).

Mastodon accepts only SHA-256 in either header (app/lib/signed_request.rb,
verify_body_digest!). So do we for `Digest`; a `Content-Digest` may instead carry only
sha-512 (as the RFC 9421 Appendix B test request does). Every SHA-256 / SHA-512 entry
present must match the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping

from kizuna.activitypub.errors import SignatureError

from .message import lower_headers
from .sfv import Item, parse_dictionary

__all__ = [
    "check_content_digest",
    "check_digest",
    "check_digest_header",
    "content_digest_header",
    "digest_header",
]

_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def digest_header(body: bytes) -> str:
    """`Digest` value: "SHA-256=<base64>"."""
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


def content_digest_header(body: bytes) -> str:
    """`Content-Digest` value: "sha-256=:<base64>:"."""
    return "sha-256=:" + _b64(hashlib.sha256(body).digest()) + ":"


def _compare(algorithm: str, expected: bytes, body: bytes) -> None:
    if not hmac.compare_digest(_HASHES[algorithm](body), expected):
        raise SignatureError("digest does not match the body")


def check_digest_header(value: str, body: bytes) -> None:
    """A `Digest` value ("SHA-256=<b64>", maybe a comma list with other algorithms): the
    SHA-256 entry is required; a SHA-512 entry, if any, must match too."""
    found = False
    for entry in value.split(","):
        name, sep, encoded = entry.strip().partition("=")
        algorithm = name.strip().lower()
        if not sep or algorithm not in _HASHES:
            continue
        try:
            expected = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as exc:
            raise SignatureError("digest is not valid base64") from exc
        _compare(algorithm, expected, body)
        found = found or algorithm == "sha-256"
    if not found:
        raise SignatureError("digest has no SHA-256 entry")


def check_content_digest(value: str, body: bytes) -> None:
    """A `Content-Digest` value: an RFC 8941 dictionary of byte sequences."""
    found = False
    for algorithm, member in parse_dictionary(value).items():
        if algorithm not in _HASHES:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"content-digest {algorithm} is not a byte sequence")
        _compare(algorithm, member.value, body)
        found = True
    if not found:
        raise SignatureError("content-digest has no sha-256 or sha-512 entry")


def check_digest(headers: Mapping[str, str], body: bytes) -> None:
    """Check every digest header present (`Digest`, `Content-Digest`); at least one must be."""
    lowered = lower_headers(headers)
    if "digest" not in lowered and "content-digest" not in lowered:
        raise SignatureError("no digest")
    if "digest" in lowered:
        check_digest_header(lowered["digest"], body)
    if "content-digest" in lowered:
        check_content_digest(lowered["content-digest"], body)
