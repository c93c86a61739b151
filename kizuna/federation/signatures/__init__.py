"""HTTP signatures, pure: draft-cavage-12 and RFC 9421 (+ RFC 9530 digests), RSA and Ed25519.

Imports only the standard library and `cryptography`; no clock (`now` is a parameter), no
I/O. Every failure raises `kizuna.activitypub.errors.SignatureError` (401) with a short
reason. Typical inbox use:

    scheme, key_id = key_id_of(headers)               # look the key up by key_id (I/O)
    verified = verify_request(method=..., url=..., headers=..., body=...,
                              public_key=PublicKey(key_id=..., owner=..., key=...), now=now)
"""

from __future__ import annotations

from .algorithms import check_time_window
from .cavage import CavageSignature, parse_cavage, sign_cavage, signing_string, verify_cavage
from .digest import (
    check_content_digest,
    check_digest,
    check_digest_header,
    content_digest_header,
    digest_header,
)
from .keys import (
    PrivateKeyType,
    PublicKey,
    PublicKeyType,
    ed25519_multikey,
    load_multikey,
    load_private_key_pem,
    load_public_key_pem,
)
from .policy import Scheme, VerifiedSignature, key_id_of, verify_request
from .rfc9421 import (
    MASTODON_POLICY,
    Rfc9421Policy,
    Rfc9421Signature,
    parse_rfc9421,
    sign_rfc9421,
    signature_base,
    verify_rfc9421,
    verify_signature_base,
)

__all__ = [
    "MASTODON_POLICY",
    "CavageSignature",
    "PrivateKeyType",
    "PublicKey",
    "PublicKeyType",
    "Rfc9421Policy",
    "Rfc9421Signature",
    "Scheme",
    "VerifiedSignature",
    "check_content_digest",
    "check_digest",
    "check_digest_header",
    "check_time_window",
    "content_digest_header",
    "digest_header",
    "ed25519_multikey",
    "key_id_of",
    "load_multikey",
    "load_private_key_pem",
    "load_public_key_pem",
    "parse_cavage",
    "parse_rfc9421",
    "sign_cavage",
    "sign_rfc9421",
    "signature_base",
    "signing_string",
    "verify_cavage",
    "verify_request",
    "verify_rfc9421",
    "verify_signature_base",
]
