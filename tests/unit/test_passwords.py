"""Unit tests for kizuna.passwords (scrypt hashes)."""

from __future__ import annotations

import pytest

from kizuna.passwords import generate_password, hash_password, verify_password

FIXED_SALT = bytes(range(16))


def test_hash_password__round_trip() -> None:
    encoded = hash_password("correct horse battery staple")

    assert verify_password("correct horse battery staple", encoded) is True


def test_verify_password__wrong_password_is_false() -> None:
    encoded = hash_password("correct horse battery staple")

    assert verify_password("correct horse battery stapler", encoded) is False
    assert verify_password("", encoded) is False


def test_hash_password__same_password_gets_different_salts() -> None:
    first = hash_password("same password")
    second = hash_password("same password")

    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("same password", first)
    assert verify_password("same password", second)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "bcrypt$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "scrypt$x$y",
        "scrypt$a$b$c$d$e",
        "scrypt$32768$8$1$!!!$###",
        "scrypt$3$8$1$AAAA$AAAA",
        "not a hash at all",
    ],
)
def test_verify_password__malformed_stored_value_is_false(stored: str) -> None:
    assert verify_password("password", stored) is False


def test_hash_password__fixed_salt_is_stable() -> None:
    first = hash_password("pinned", salt=FIXED_SALT)
    second = hash_password("pinned", salt=FIXED_SALT)

    assert first == second
    assert first.startswith("scrypt$32768$8$1$AAECAwQFBgcICQoLDA0ODw==$")
    assert hash_password("pinned!", salt=FIXED_SALT) != first


def test_hash_password__unicode_password() -> None:
    encoded = hash_password("日本語パスワード")

    assert verify_password("日本語パスワード", encoded) is True
    assert verify_password("日本語パスワー", encoded) is False


def test_generate_password__long_and_random() -> None:
    first, second = generate_password(), generate_password()

    assert len(first) >= 16
    assert first != second


def test_hash_password__keeps_its_cost_which_verify_reads_back() -> None:
    encoded = hash_password("cheap", n=16)

    assert encoded.startswith("scrypt$16$8$1$")
    assert verify_password("cheap", encoded) is True
    assert verify_password("cheaq", encoded) is False
