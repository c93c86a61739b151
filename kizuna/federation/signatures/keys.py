"""Public and private keys for HTTP signatures: PEM (RSA, Ed25519) and FEP-521a Multikey.

Pure: no I/O. Everything that rejects a key raises `SignatureError("unusable … key …")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from kizuna.activitypub.errors import SignatureError

__all__ = [
    "MIN_RSA_BITS",
    "PrivateKeyType",
    "PublicKey",
    "PublicKeyType",
    "ed25519_multikey",
    "load_multikey",
    "load_private_key_pem",
    "load_public_key_pem",
]

PublicKeyType: TypeAlias = RSAPublicKey | Ed25519PublicKey
PrivateKeyType: TypeAlias = RSAPrivateKey | Ed25519PrivateKey

# 1024-bit keys still sign for some old Misskey/Pleroma accounts; we accept, never generate them.
MIN_RSA_BITS = 1024

# Multicodec prefix of an Ed25519 public key (varint 0xed), FEP-521a / W3C Multikey.
_ED25519_MULTICODEC = b"\xed\x01"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(_BASE58_ALPHABET)}


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """A verification key and where it came from (`key_id`; `owner` = the actor, if known)."""

    key_id: str
    owner: str | None = None
    key: PublicKeyType = field(compare=False, repr=False)

    @property
    def kind(self) -> Literal["rsa", "ed25519"]:
        return "rsa" if isinstance(self.key, RSAPublicKey) else "ed25519"


def _check_rsa_size(bits: int, what: str) -> None:
    if bits < MIN_RSA_BITS:
        raise SignatureError(f"unusable {what} key: RSA key of {bits} bits is too small")


def load_public_key_pem(pem: str) -> PublicKeyType:
    """SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") PEM; RSA ≥ 1024 bits or Ed25519."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise SignatureError("unusable public key: not a PEM public key") from exc
    if isinstance(key, RSAPublicKey):
        _check_rsa_size(key.key_size, "public")
        return key
    if isinstance(key, Ed25519PublicKey):
        return key
    raise SignatureError(f"unusable public key: {type(key).__name__} is not RSA or Ed25519")


def load_private_key_pem(pem: str) -> PrivateKeyType:
    """PKCS#8 or PKCS#1 PEM of an RSA or Ed25519 private key (unencrypted)."""
    try:
        key = serialization.load_pem_private_key(pem.strip().encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise SignatureError("unusable private key: not an unencrypted PEM private key") from exc
    if isinstance(key, RSAPrivateKey):
        _check_rsa_size(key.key_size, "private")
        return key
    if isinstance(key, Ed25519PrivateKey):
        return key
    raise SignatureError(f"unusable private key: {type(key).__name__} is not RSA or Ed25519")


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            raise SignatureError(f"unusable multikey: {char!r} is not base58btc")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def _base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _BASE58_ALPHABET[digit] + out
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + out


def load_multikey(multibase: str) -> Ed25519PublicKey:
    """FEP-521a `publicKeyMultibase`: "z" + base58btc(0xed 0x01 + 32-byte Ed25519 key)."""
    if not multibase.startswith("z"):
        raise SignatureError("unusable multikey: only base58btc ('z') multibase is supported")
    raw = _base58_decode(multibase[1:])
    if not raw.startswith(_ED25519_MULTICODEC):
        raise SignatureError("unusable multikey: not an Ed25519 public key")
    if len(raw) != len(_ED25519_MULTICODEC) + 32:
        raise SignatureError("unusable multikey: Ed25519 key must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw[len(_ED25519_MULTICODEC) :])


def ed25519_multikey(public_key: Ed25519PublicKey) -> str:
    """The FEP-521a `publicKeyMultibase` of `public_key` (inverse of `load_multikey`)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _base58_encode(_ED25519_MULTICODEC + raw)
