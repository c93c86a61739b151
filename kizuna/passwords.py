"""scrypt password hashes (memory-hard, standard library). Format: scrypt$n$r$p$salt$hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

_N, _R, _P = 2**15, 8, 1  # 32 MiB, ~0.1 s per hash on one core
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None, n: int = _N) -> str:
    """`n`: scrypt's cost (a power of two); a hash keeps its own, which verify reads back."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=_R, p=_P, maxmem=_MAXMEM, dklen=32
    )
    return f"scrypt${n}${_R}${_P}${_b64(salt)}${_b64(digest)}"


# How new password hashes are made: hash_password, except in tests, which save its cost.
PasswordHasher = Callable[[str], str]


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def generate_password() -> str:
    return secrets.token_urlsafe(15)
