"""Actor key pairs (pure: no I/O). RSA-2048 is what every fediverse peer verifies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPair:
    public_pem: str
    private_pem: str = ""


def generate_rsa_keypair(bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return KeyPair(public_pem=public_pem, private_pem=private_pem)


# Where a new local actor's key pair comes from: a fresh RSA-2048 pair each call, except in
# tests, which hand out pre-generated ones (each pair takes ~0.1 s of CPU to make).
KeySource = Callable[[], KeyPair]
