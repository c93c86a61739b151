"""Which scheme a request is signed with, and verifying it with the right verifier.

Like Mastodon's SignedRequest#initialize (app/lib/signed_request.rb): a request carrying
`Signature-Input` is RFC 9421, otherwise its `Signature` header is draft-cavage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from kizuna.activitypub.errors import SignatureError
from kizuna.activitypub.vocab import is_http_url

from .cavage import parse_cavage, verify_cavage
from .keys import PublicKey
from .message import lower_headers, split_url
from .rfc9421 import parse_rfc9421, verify_rfc9421

__all__ = ["Scheme", "VerifiedSignature", "key_id_of", "verify_request"]

Scheme: TypeAlias = Literal["rfc9421", "cavage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedSignature:
    scheme: Scheme
    key_id: str


def key_id_of(headers: Mapping[str, str]) -> tuple[Scheme, str]:
    """(scheme, keyId) of a request's signature, to look the key up before verifying.
    For RFC 9421 with several signatures: the keyid of the first label. A keyId that is
    no http(s) URL names no key we could fetch: refused here, before anything parses it."""
    lowered = lower_headers(headers)
    scheme: Scheme
    if "signature-input" in lowered:
        scheme, key_id = "rfc9421", parse_rfc9421(lowered)[0].key_id
        if not key_id:
            raise SignatureError("signature has no keyid")
    elif "signature" in lowered:
        scheme, key_id = "cavage", parse_cavage(lowered["signature"]).key_id
    else:
        raise SignatureError("no signature")
    if not is_http_url(key_id):
        raise SignatureError(f"keyId is not an http(s) URL: {key_id[:100]!r}")
    return scheme, key_id


def verify_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: PublicKey,
    now: datetime,
) -> VerifiedSignature:
    """Verify a request signed either way; `url` is the full URL including the query."""
    lowered = lower_headers(headers)
    if "signature-input" in lowered:
        key_id = verify_rfc9421(
            method=method, url=url, headers=lowered, body=body, public_key=public_key, now=now
        )
        return VerifiedSignature(scheme="rfc9421", key_id=key_id)
    if "signature" not in lowered:
        raise SignatureError("no signature")
    verify_cavage(
        method=method,
        path_qs=split_url(url).path_qs,
        headers=lowered,
        body=body,
        public_key=public_key,
        now=now,
    )
    # Parsed (and cached) once for key_id_of already; the caller chose the key by that id.
    return VerifiedSignature(scheme="cavage", key_id=parse_cavage(lowered["signature"]).key_id)
