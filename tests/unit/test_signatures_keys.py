"""Keys for HTTP signatures: PEM loading, FEP-521a Multikey, and the package's purity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.signatures import (
    PublicKey,
    ed25519_multikey,
    load_multikey,
    load_private_key_pem,
    load_public_key_pem,
)
from kizuna.federation.signatures.keys import _base58_decode, _base58_encode

DATA = Path(__file__).resolve().parents[1] / "data" / "signatures"


def _spki(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def test_load_public_key_pem__reads_spki_rsa_and_ed25519() -> None:
    rsa_key = load_public_key_pem((DATA / "keys" / "rsa.pub.pem").read_text())
    ed_key = load_public_key_pem((DATA / "keys" / "ed25519.pub.pem").read_text())

    assert isinstance(rsa_key, RSAPublicKey)
    assert rsa_key.key_size == 2048
    assert isinstance(ed_key, Ed25519PublicKey)
    assert PublicKey(key_id="a#k", key=rsa_key).kind == "rsa"
    assert PublicKey(key_id="a#e", key=ed_key).kind == "ed25519"


def test_load_public_key_pem__reads_pkcs1_rsa_public_key() -> None:
    # RFC 9421 Appendix B.1.1 test-key-rsa is a "BEGIN RSA PUBLIC KEY" (PKCS#1) PEM.
    pem = (DATA / "rfc9421" / "test-key-rsa.pub.pem").read_text()

    key = load_public_key_pem("\n  " + pem + "\n")

    assert isinstance(key, RSAPublicKey)
    assert key.key_size == 2048


def test_load_public_key_pem__accepts_old_1024_bit_rsa() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()

    assert load_public_key_pem(_spki(key)).key_size == 1024  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        ("not a key", "unusable public key: not a PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a PEM public key"),
        ("caf\u00e9", "not a PEM public key"),
        (_spki(ec.generate_private_key(ec.SECP256R1()).public_key()), "is not RSA or Ed25519"),
        (_spki(rsa.RSAPublicNumbers(65537, 2**511 + 1).public_key()), "512 bits is too small"),
    ],
    ids=["garbage", "bad-der", "non-ascii", "ec", "rsa-512"],
)
def test_load_public_key_pem__rejects_unusable_keys(pem: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        load_public_key_pem(pem)


def test_load_private_key_pem__reads_rsa_and_ed25519() -> None:
    assert isinstance(load_private_key_pem((DATA / "keys" / "rsa.pem").read_text()), RSAPrivateKey)
    ed_pem = (DATA / "rfc9421" / "test-key-ed25519.pem").read_text()
    assert isinstance(load_private_key_pem(ed_pem), Ed25519PrivateKey)


def test_load_private_key_pem__rejects_other_keys() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(SignatureError, match="is not RSA or Ed25519"):
        load_private_key_pem(ec_pem)
    with pytest.raises(SignatureError, match="unusable private key"):
        load_private_key_pem("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----")


def test_public_key__compares_by_id_and_owner_not_key_object() -> None:
    one = load_public_key_pem((DATA / "keys" / "rsa.pub.pem").read_text())
    two = load_public_key_pem((DATA / "keys" / "rsa.pub.pem").read_text())

    assert PublicKey(key_id="k", owner="o", key=one) == PublicKey(key_id="k", owner="o", key=two)


# --- Multikey -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [(b"Hello World!", "2NEpo7TZRRrLZSi2U"), (b"\x00\x00\x28\x7f\xb4\xcd", "11233QC4"), (b"", "")],
)
def test_base58__matches_known_answers(raw: bytes, encoded: str) -> None:
    # Common base58btc test vectors (Bitcoin alphabet, leading zero bytes as "1").
    assert _base58_encode(raw) == encoded
    assert _base58_decode(encoded) == raw


def test_ed25519_multikey__round_trips_through_load_multikey() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    multibase = ed25519_multikey(key)
    loaded = load_multikey(multibase)

    assert multibase.startswith("z6Mk")  # every Ed25519 Multikey does (0xed 0x01 prefix)
    assert loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw


@pytest.mark.parametrize(
    ("multibase", "reason"),
    [
        ("u7QE", "only base58btc"),
        ("z0OIl", "is not base58btc"),
        ("z" + _base58_encode(b"\x12\x20" + bytes(32)), "not an Ed25519 public key"),
        ("z" + _base58_encode(b"\xed\x01" + bytes(31)), "must be 32 bytes"),
    ],
    ids=["base64url", "bad-char", "sha256-multihash", "short"],
)
def test_load_multikey__rejects_other_encodings(multibase: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        load_multikey(multibase)


# --- purity -------------------------------------------------------------------------------

PROBE = """
import sys
import kizuna.federation.signatures
allowed = {"kizuna", "cryptography", "_cffi_backend", "cffi"}
third_party = sorted(
    {name.split(".")[0] for name in sys.modules}
    - set(sys.stdlib_module_names) - allowed - set(sys.builtin_module_names)
)
print(",".join(m for m in third_party if not m.startswith("_")))
"""


def test_signatures_package__imports_only_stdlib_and_cryptography() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"signatures pulled in: {result.stdout.strip()}"
