"""draft-cavage signatures: parsing, our signer (pinned), Mastodon's verification rules, and
mutations that must be rejected."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.signatures import (
    PrivateKeyType,
    PublicKey,
    digest_header,
    load_private_key_pem,
    load_public_key_pem,
    parse_cavage,
    sign_cavage,
    signing_string,
    verify_cavage,
)
from kizuna.federation.signatures.algorithms import sign_bytes
from kizuna.federation.signatures.message import split_url

KEYS = Path(__file__).resolve().parents[1] / "data" / "signatures" / "keys"
RSA_KEY = load_private_key_pem((KEYS / "rsa.pem").read_text())
ED_KEY = load_private_key_pem((KEYS / "ed25519.pem").read_text())
RSA_ID = "https://a.test/users/alice#main-key"
ED_ID = "https://a.test/users/alice#ed25519-key"
RSA_PUBLIC = PublicKey(key_id=RSA_ID, owner="https://a.test/users/alice", key=RSA_KEY.public_key())
ED_PUBLIC = PublicKey(key_id=ED_ID, owner="https://a.test/users/alice", key=ED_KEY.public_key())
OTHER_PUBLIC = PublicKey(
    key_id=RSA_ID, key=load_public_key_pem((KEYS / "rsa-other.pub.pem").read_text())
)
NOW = datetime(2025, 6, 7, 20, 51, 35, tzinfo=UTC)
INBOX = "https://b.test/users/bob/inbox"
OUTBOX = "https://b.test/users/bob/outbox?page=true"
BODY = b'{"type":"Follow","actor":"https://a.test/users/alice","object":"https://b.test/users/bob"}'
AP_JSON = "application/activity+json"

Request = tuple[str, str, dict[str, str], bytes]  # method, url, headers, body


def signed_post(
    key: PrivateKeyType = RSA_KEY, key_id: str = RSA_ID, now: datetime = NOW
) -> Request:
    headers = {"Content-Type": AP_JSON}
    headers |= sign_cavage(
        method="POST",
        url=INBOX,
        headers=headers,
        body=BODY,
        key_id=key_id,
        private_key=key,
        now=now,
    )
    return "POST", INBOX, headers, BODY


def signed_get(key: PrivateKeyType = RSA_KEY, key_id: str = RSA_ID) -> Request:
    headers = {"Accept": AP_JSON}
    headers |= sign_cavage(
        method="GET",
        url=OUTBOX,
        headers=headers,
        body=None,
        key_id=key_id,
        private_key=key,
        now=NOW,
    )
    return "GET", OUTBOX, headers, b""


def verify(request: Request, public_key: PublicKey = RSA_PUBLIC, now: datetime = NOW) -> None:
    method, url, headers, body = request
    verify_cavage(
        method=method,
        path_qs=split_url(url).path_qs,
        headers=headers,
        body=body,
        public_key=public_key,
        now=now,
    )


def hand_signed(
    names: str,
    *,
    params: str = "",
    algorithm: str | None = "hs2019",
    created: int | None = None,
    expires: int | None = None,
    method: str = "GET",
    url: str = OUTBOX,
    extra: dict[str, str] | None = None,
    key: RSAPrivateKey | Ed25519PrivateKey = RSA_KEY,
) -> Request:
    """A request signed by hand (signing_string + the raw key), to reach shapes our signer
    never produces: hs2019 with (created)/(expires), odd header lists, other algorithms."""
    headers = {"Host": "b.test", "Date": "Sat, 07 Jun 2025 20:51:35 GMT", **(extra or {})}
    text = signing_string(
        names.split(),
        method=method,
        path_qs=split_url(url).path_qs,
        headers=headers,
        created=created,
        expires=expires,
    )
    signature = base64.b64encode(sign_bytes(key, text.encode())).decode()
    alg = f'algorithm="{algorithm}",' if algorithm else ""
    headers["Signature"] = (
        f'keyId="{RSA_ID}",{alg}headers="{names}",{params}signature="{signature}"'
    )
    return method, url, headers, b""


# --- parse_cavage -------------------------------------------------------------------------


def test_parse_cavage__reads_every_parameter() -> None:
    parsed = parse_cavage(
        'keyId="https://a.test/k",algorithm="hs2019",headers="(request-target) (created) '
        'Host",created=1749329495,expires="1749329795.5",signature="AAEC"'
    )

    assert parsed.key_id == "https://a.test/k"
    assert parsed.algorithm == "hs2019"
    assert parsed.headers == ("(request-target)", "(created)", "host")
    assert (parsed.created, parsed.expires) == (1749329495, 1749329795)
    assert parsed.signature == b"\x00\x01\x02"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("", ("(created)",)),
        ('algorithm="hs2019",', ("(created)",)),
        ('algorithm="rsa-sha256",', ("date",)),
    ],
)
def test_parse_cavage__defaults_headers_like_mastodon(
    algorithm: str, expected: tuple[str, ...]
) -> None:
    assert parse_cavage(f'keyId="k",{algorithm}signature="AA=="').headers == expected


def test_parse_cavage__tolerates_spaces_escapes_and_the_old_prefix() -> None:
    parsed = parse_cavage('Signature keyId = "a\\"b" ,  signature= "AA==" ')

    assert parsed.key_id == 'a"b'
    assert parsed.algorithm is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('algorithm="rsa-sha256",signature="AA=="', "signature has no keyId"),
        ('keyId="",signature="AA=="', "signature has no keyId"),
        ('keyId="k"', "signature has no signature value"),
        ('keyId="k",signature="not base64!"', "signature is not valid base64"),
        ('keyId="k",keyId="j",signature="AA=="', "duplicate keyId"),
        ('keyId="k";signature="AA=="', "malformed Signature header"),
        ('keyId="k",signature="AA==",created="soon"', "invalid created"),
        ('keyId="k" signature="AA=="', "malformed Signature header"),
    ],
)
def test_parse_cavage__rejects_bad_headers(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        parse_cavage(value)


# --- signing_string and sign_cavage -------------------------------------------------------


def test_signing_string__joins_lowercase_lines_without_trailing_newline() -> None:
    text = signing_string(
        ("(request-target)", "host", "date", "(created)"),
        method="POST",
        path_qs="/users/bob/inbox?x=1",
        headers={"HOST": " b.test ", "Date": "Sat, 07 Jun 2025 20:51:35 GMT"},
        created=1749329495,
    )

    assert text == (
        "(request-target): post /users/bob/inbox?x=1\nhost: b.test\n"
        "date: Sat, 07 Jun 2025 20:51:35 GMT\n(created): 1749329495"
    )


def test_signing_string__names_the_missing_header() -> None:
    with pytest.raises(SignatureError, match="signed header accept is missing"):
        signing_string(("accept",), method="GET", path_qs="/", headers={})


def test_sign_cavage__pinned_rsa_post() -> None:
    # Our output for a fixed key (tests/data/signatures/keys/rsa.pem), date and body.
    # RSASSA-PKCS1-v1_5 is deterministic, so any change here is a change of our wire format.
    assert signed_post()[2] == {
        "Content-Type": "application/activity+json",
        "Host": "b.test",
        "Date": "Sat, 07 Jun 2025 20:51:35 GMT",
        "Digest": "SHA-256=aV+f8A3T/OXk7LhcQAdRM4P9K3VlTxfcN44owM3Icpw=",
        "Signature": (
            'keyId="https://a.test/users/alice#main-key",algorithm="rsa-sha256",'
            'headers="(request-target) host date digest content-type",'
            'signature="OvYpNxp4ATi375kZ5g0wXpAtIApcMvZWZUmsHUGqaS0ut7FDovjdA0wY9g4cK8xoHGLReArj'
            "HoTdMOe9wzf4AL7LHsJCejwfuslESCXkmCRfx4tF1+UQcG5G7HBzvc+qkE8Hs3KkiNPn4XTBQg8ugFMkI3aQ"
            "GGY0USIrC01bcZ7QPa4aWSk9cSlx+PsxNgPy4IZfwsFeXARl/YKFfs1LMNeDMUKyOtinzPfyr+pX+E8Bthlk"
            "MNN9Xh7aizFYK7oYbAu4UyrfiawsXAwaNqCmb1KShtauw2N01iZdQCWvzRcxLqPKLSvUSEdr+ImLZEmt/Tdi"
            'M7kjpgfJ/nWFCiVmsQ=="'
        ),
    }


def test_sign_cavage__pinned_ed25519_post_uses_hs2019() -> None:
    assert signed_post(ED_KEY, ED_ID)[2]["Signature"] == (
        'keyId="https://a.test/users/alice#ed25519-key",algorithm="hs2019",'
        'headers="(request-target) host date digest content-type",'
        'signature="UcsC5XPc3NRrsTORhektH290CYjpCSFEu0dSBvuQmktzW3fJxWnHPy0N13t5ZEj2h+iS65uSRGcZk'
        'NPQgu4kAA=="'
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Accept": AP_JSON}, "(request-target) host date accept"),
        ({}, "(request-target) host date"),
    ],
)
def test_sign_cavage__get_signs_accept_only_when_present(
    headers: dict[str, str], expected: str
) -> None:
    added = sign_cavage(
        method="GET",
        url=OUTBOX,
        headers=headers,
        body=None,
        key_id=RSA_ID,
        private_key=RSA_KEY,
        now=NOW,
    )

    assert "Digest" not in added
    assert parse_cavage(added["Signature"]).headers == tuple(expected.split())


def test_sign_cavage__post_without_content_type_or_body_still_signs_a_digest() -> None:
    added = sign_cavage(
        method="POST", url=INBOX, headers={}, body=None, key_id=RSA_ID, private_key=RSA_KEY, now=NOW
    )

    assert added["Digest"] == digest_header(b"")
    assert parse_cavage(added["Signature"]).headers[-1] == "digest"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://B.test:443/inbox", "b.test"),
        ("http://b.test:80/inbox", "b.test"),
        ("https://b.test:8443/inbox", "b.test:8443"),
        ("http://[::1]:8080/inbox", "[::1]:8080"),
    ],
)
def test_sign_cavage__host_keeps_only_a_non_default_port(url: str, host: str) -> None:
    added = sign_cavage(
        method="GET", url=url, headers={}, body=None, key_id=RSA_ID, private_key=RSA_KEY, now=NOW
    )

    assert added["Host"] == host


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "key_id", "public"),
    [(RSA_KEY, RSA_ID, RSA_PUBLIC), (ED_KEY, ED_ID, ED_PUBLIC)],
    ids=["rsa", "ed25519"],
)
def test_verify_cavage__accepts_our_post_and_get(
    key: PrivateKeyType, key_id: str, public: PublicKey
) -> None:
    verify(signed_post(key, key_id), public)
    verify(signed_get(key, key_id), public)


@pytest.mark.parametrize(
    "age", [timedelta(hours=1, minutes=4), timedelta(minutes=-59), timedelta(0)]
)
def test_verify_cavage__accepts_inside_the_time_window(age: timedelta) -> None:
    verify(signed_post(), now=NOW + age)


def test_verify_cavage__accepts_a_signature_without_the_query_for_old_mastodon() -> None:
    method, url, headers, body = signed_get()
    signed = sign_cavage(
        method="GET",
        url=url.split("?")[0],
        headers=headers,
        body=None,
        key_id=RSA_ID,
        private_key=RSA_KEY,
        now=NOW,
    )

    verify((method, url, headers | signed, body))


# --- mutations ----------------------------------------------------------------------------

Mutation = Callable[[Request], Request]


def _header(name: str, value: str) -> Mutation:
    return lambda r: (r[0], r[1], r[2] | {name: value}, r[3])


POST_MUTATIONS: dict[str, Mutation] = {
    "body": lambda r: (r[0], r[1], r[2], r[3] + b" "),
    "method": lambda r: ("PUT", r[1], r[2], r[3]),
    "path": lambda r: (r[0], r[1].replace("/inbox", "/outbox"), r[2], r[3]),
    "host": _header("Host", "c.test"),
    "date": _header("Date", "Sat, 07 Jun 2025 20:51:36 GMT"),
    "digest": _header("Digest", digest_header(b"{}")),
    "content-type": _header("Content-Type", "application/json"),
}
GET_MUTATIONS: dict[str, Mutation] = {
    "query": lambda r: (r[0], r[1].replace("page=true", "page=false"), r[2], r[3]),
    "method": lambda r: ("HEAD", r[1], r[2], r[3]),
    "host": _header("Host", "c.test"),
    "accept": _header("Accept", "text/html"),
}


@pytest.mark.parametrize("mutation", POST_MUTATIONS, ids=str)
def test_verify_cavage__rejects_a_mutated_post(mutation: str) -> None:
    with pytest.raises(SignatureError):
        verify(POST_MUTATIONS[mutation](signed_post()))


@pytest.mark.parametrize("mutation", GET_MUTATIONS, ids=str)
def test_verify_cavage__rejects_a_mutated_get(mutation: str) -> None:
    with pytest.raises(SignatureError):
        verify(GET_MUTATIONS[mutation](signed_get()))


def test_verify_cavage__rejects_another_key() -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify(signed_post(), OTHER_PUBLIC)


def test_verify_cavage__rejects_an_ed25519_signature_checked_with_rsa() -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify(signed_post(ED_KEY, ED_ID), RSA_PUBLIC)


def test_verify_cavage__rejects_an_algorithm_that_does_not_fit_the_key() -> None:
    rsa_named = hand_signed("(request-target) host date", algorithm="rsa-sha256", key=ED_KEY)
    ed_named = hand_signed("(request-target) host date", algorithm="ed25519")

    with pytest.raises(SignatureError, match="rsa-sha256 does not match an ed25519 key"):
        verify(rsa_named, ED_PUBLIC)
    with pytest.raises(SignatureError, match="ed25519 does not match an RSA key"):
        verify(ed_named, RSA_PUBLIC)


def test_verify_cavage__accepts_algorithm_ed25519_with_an_ed25519_key() -> None:
    verify(hand_signed("(request-target) host date", algorithm="ed25519", key=ED_KEY), ED_PUBLIC)


@pytest.mark.parametrize(
    ("shift", "reason"),
    [
        (timedelta(hours=1, minutes=6), "signature expired"),
        (timedelta(hours=-1, minutes=-1), "signature created in the future"),
    ],
    ids=["stale", "future"],
)
def test_verify_cavage__rejects_outside_the_time_window(shift: timedelta, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(signed_post(), now=NOW + shift)


def test_verify_cavage__rejects_a_post_without_digest() -> None:
    request = hand_signed("(request-target) host date", method="POST", algorithm="rsa-sha256")

    with pytest.raises(SignatureError, match="digest not signed"):
        verify(request)


def test_verify_cavage__rejects_a_signed_digest_missing_from_the_request() -> None:
    method, url, headers, body = signed_post()
    del headers["Digest"]

    with pytest.raises(SignatureError, match="signed header digest is missing"):
        verify((method, url, headers, body))


def test_verify_cavage__rejects_a_get_without_host() -> None:
    with pytest.raises(SignatureError, match="host not signed"):
        verify(hand_signed("(request-target) date", algorithm="rsa-sha256"))


def test_verify_cavage__rejects_date_only_signatures() -> None:
    with pytest.raises(SignatureError, match=r"\(request-target\) not signed"):
        verify(hand_signed("host date", algorithm="rsa-sha256"))


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha512", "ecdsa-sha256"])
def test_verify_cavage__rejects_unsupported_algorithms(algorithm: str) -> None:
    request = hand_signed("(request-target) host date", algorithm=algorithm)

    with pytest.raises(SignatureError, match=f"unsupported signature algorithm {algorithm}"):
        verify(request)


def test_verify_cavage__rejects_created_with_rsa_sha256() -> None:
    request = hand_signed(
        "(request-target) host (created)",
        algorithm="rsa-sha256",
        created=1749329495,
        params="created=1749329495,",
    )

    with pytest.raises(SignatureError, match="only valid with hs2019"):
        verify(request)


def test_verify_cavage__accepts_a_query_added_to_a_query_less_target() -> None:
    # The price of Mastodon's compatibility rule: the signature is retried without the query.
    method, url, headers, body = signed_post()

    verify((method, url + "?x=1", headers, body))


def test_verify_cavage__rejects_a_query_signed_but_not_requested() -> None:
    method, url, headers, body = signed_get()

    with pytest.raises(SignatureError, match="signature does not verify"):
        verify((method, url.split("?")[0], headers, body))


def test_verify_cavage__rejects_a_request_without_signature() -> None:
    with pytest.raises(SignatureError, match="no signature"):
        verify(("GET", OUTBOX, {"Host": "b.test"}, b""))


# --- hs2019 with (created) / (expires) -----------------------------------------------------

CREATED = int(NOW.timestamp())


def _with_expires(created: int, expires: int, *, sign_expires: bool = True) -> Request:
    names = "(request-target) host (created)" + (" (expires)" if sign_expires else "")
    return hand_signed(
        names,
        created=created,
        expires=expires,
        params=f"created={created},expires={expires},",
    )


def test_verify_cavage__uses_created_for_the_window_when_signed() -> None:
    request = hand_signed(
        "(request-target) host (created)", created=CREATED - 600, params=f"created={CREATED - 600},"
    )

    verify(request)  # Date is still "now" but (created) is 10 min old: inside 1 h 5 min
    with pytest.raises(SignatureError, match="signature expired"):
        verify(request, now=NOW + timedelta(minutes=56))


def test_verify_cavage__honours_expires() -> None:
    request = _with_expires(CREATED - 2 * 3600, CREATED + 3600)

    verify(request)
    verify(request, now=NOW + timedelta(hours=1, minutes=59))
    with pytest.raises(SignatureError, match="signature expired"):
        verify(request, now=NOW + timedelta(hours=2, minutes=1))


def test_verify_cavage__caps_expires_at_twelve_hours() -> None:
    request = _with_expires(CREATED - 13 * 3600 - 60, CREATED + 24 * 3600)

    with pytest.raises(SignatureError, match="signature expired"):
        verify(request)


def test_verify_cavage__ignores_an_unsigned_expires_parameter() -> None:
    # Deviation from Mastodon, which would let this unsigned `expires` stretch the window.
    request = _with_expires(CREATED - 2 * 3600, CREATED + 3600, sign_expires=False)

    with pytest.raises(SignatureError, match="signature expired"):
        verify(request)


def test_verify_cavage__rejects_created_signed_without_its_parameter() -> None:
    request = hand_signed("(request-target) host (created)", created=CREATED)  # no created=

    with pytest.raises(SignatureError, match=r"\(created\) signed but its parameter is missing"):
        verify(request)
