"""Body digests: `Digest` (what cavage signs) and `Content-Digest` (RFC 9530)."""

from __future__ import annotations

import pytest

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.signatures import check_digest, content_digest_header, digest_header

BODY = b'{"hello": "world"}'
# Known answers: SHA-256 of the empty string; RFC 9530 Appendix B (sha-256 of BODY);
# RFC 9421 Appendix B.2 test request (sha-512 of BODY).
EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
SHA512 = "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="
OTHER_SHA256 = "RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o="  # of b"{}"


def test_digest_header__of_empty_body() -> None:
    assert digest_header(b"") == f"SHA-256={EMPTY_SHA256}"


def test_content_digest_header__is_an_sf_dictionary_of_sha256() -> None:
    assert content_digest_header(BODY) == f"sha-256=:{SHA256}:"


@pytest.mark.parametrize(
    "value",
    [
        f"SHA-256={SHA256}",
        f"sha-256={SHA256}",
        f"MD5=XrY7u+Ae7tCTyyK7j1rNww==, SHA-256={SHA256}",
        f"SHA-512={SHA512},SHA-256={SHA256}",
    ],
)
def test_check_digest__accepts_a_matching_digest(value: str) -> None:
    check_digest({"DIGEST": value}, BODY)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"SHA-256={OTHER_SHA256}", "digest does not match the body"),
        (f"SHA-512={SHA512}", "digest has no SHA-256 entry"),
        (f"SHA-256={SHA256},SHA-512={SHA256}", "digest does not match the body"),
        ("SHA-256=not base64!", "digest is not valid base64"),
        ("", "digest has no SHA-256 entry"),
    ],
)
def test_check_digest__rejects_a_bad_digest(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        check_digest({"Digest": value}, BODY)


@pytest.mark.parametrize(
    "value",
    [
        f"sha-256=:{SHA256}:",
        f"sha-512=:{SHA512}:",
        f"sha-512=:{SHA512}:, sha-256=:{SHA256}:",
        f"md5=:AAAA:, sha-256=:{SHA256}:",
    ],
)
def test_check_digest__accepts_a_matching_content_digest(value: str) -> None:
    check_digest({"Content-Digest": value}, BODY)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"sha-256=:{OTHER_SHA256}:", "digest does not match the body"),
        (f"sha-256=:{SHA256}:, sha-512=:{SHA256}:", "digest does not match the body"),
        ("md5=:AAAA:", "content-digest has no sha-256 or sha-512 entry"),
        (f"sha-256={SHA256}", "malformed structured field"),
        ("sha-256=abc", "sha-256 is not a byte sequence"),
        ("SHA-256=:AAAA:", "malformed structured field"),
    ],
)
def test_check_digest__rejects_a_bad_content_digest(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        check_digest({"content-digest": value}, BODY)


def test_check_digest__checks_both_headers_when_both_are_present() -> None:
    headers = {"Digest": f"SHA-256={SHA256}", "Content-Digest": f"sha-256=:{OTHER_SHA256}:"}

    with pytest.raises(SignatureError, match="digest does not match the body"):
        check_digest(headers, BODY)


def test_check_digest__rejects_a_request_without_digest() -> None:
    with pytest.raises(SignatureError, match="no digest"):
        check_digest({"Content-Type": "application/json"}, BODY)
