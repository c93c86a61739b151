"""RFC 9421 signatures: parsing, the signature base (RFC Appendix B vectors), our signer
(pinned), Mastodon's verification rules and mutations that must be rejected."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.signatures import (
    MASTODON_POLICY,
    PrivateKeyType,
    PublicKey,
    Rfc9421Policy,
    content_digest_header,
    load_private_key_pem,
    load_public_key_pem,
    parse_rfc9421,
    sign_rfc9421,
    signature_base,
    verify_rfc9421,
    verify_signature_base,
)
from kizuna.federation.signatures.algorithms import sign_bytes

DATA = Path(__file__).resolve().parents[1] / "data" / "signatures"
KEYS = DATA / "keys"
RFC = DATA / "rfc9421"
RSA_KEY = load_private_key_pem((KEYS / "rsa.pem").read_text())
ED_KEY = load_private_key_pem((KEYS / "ed25519.pem").read_text())
RSA_ID = "https://a.test/users/alice#main-key"
ED_ID = "https://a.test/users/alice#ed25519-key"
RSA_PUBLIC = PublicKey(key_id=RSA_ID, key=RSA_KEY.public_key())
ED_PUBLIC = PublicKey(key_id=ED_ID, key=ED_KEY.public_key())
OTHER_PUBLIC = PublicKey(
    key_id=RSA_ID, key=load_public_key_pem((KEYS / "rsa-other.pub.pem").read_text())
)
NOW = datetime(2025, 6, 7, 20, 51, 35, tzinfo=UTC)
INBOX = "https://b.test/users/bob/inbox"
OUTBOX = "https://b.test/users/bob/outbox?page=true"
BODY = b'{"type":"Follow","actor":"https://a.test/users/alice","object":"https://b.test/users/bob"}'
AP_JSON = "application/activity+json"

Request = tuple[str, str, dict[str, str], bytes]  # method, url, headers, body


def signed(
    method: str = "POST",
    url: str = INBOX,
    *,
    key: PrivateKeyType = RSA_KEY,
    key_id: str = RSA_ID,
    now: datetime = NOW,
    expires: datetime | None = None,
) -> Request:
    body = BODY if method == "POST" else None
    headers = {"Content-Type": AP_JSON} if method == "POST" else {"Accept": AP_JSON}
    headers |= sign_rfc9421(
        method=method,
        url=url,
        headers=headers,
        body=body,
        key_id=key_id,
        private_key=key,
        now=now,
        expires=expires,
    )
    return method, url, headers, body or b""


def verify(
    request: Request,
    public_key: PublicKey = RSA_PUBLIC,
    now: datetime = NOW,
    policy: Rfc9421Policy = MASTODON_POLICY,
) -> str:
    method, url, headers, body = request
    return verify_rfc9421(
        method=method,
        url=url,
        headers=headers,
        body=body,
        public_key=public_key,
        now=now,
        policy=policy,
    )


def by_hand(
    components: str,
    params: str,
    *,
    method: str = "GET",
    url: str = OUTBOX,
    headers: dict[str, str] | None = None,
    key: PrivateKeyType = RSA_KEY,
) -> Request:
    """Signature-Input written by hand, signed over our signature base."""
    headers = dict(headers or {})
    headers["Signature-Input"] = f"sig1=({components}){params}"
    sig = parse_rfc9421(headers | {"Signature": "sig1=:AA==:"})[0]
    base = signature_base(sig.components, sig.params, method=method, url=url, headers=headers)
    signature = base64.b64encode(sign_bytes(key, base.encode())).decode()
    headers["Signature"] = f"sig1=:{signature}:"
    return method, url, headers, b""


CREATED = int(NOW.timestamp())
KEYID = f';keyid="{RSA_ID}"'


# --- parse_rfc9421 ------------------------------------------------------------------------


def test_parse_rfc9421__reads_labels_components_and_params() -> None:
    (sig,) = parse_rfc9421(
        {
            "signature-input": 'sig1=( "@method"  "@query-param";name="id" "content-digest");'
            'created=1;keyid="k";alg="ed25519";nonce="n";tag="t";expires=2',
            "SIGNATURE": "sig1=:AAEC:, other=:AA==:",
        }
    )

    assert sig.label == "sig1"
    assert sig.components == ('"@method"', '"@query-param";name="id"', '"content-digest"')
    assert (sig.key_id, sig.created, sig.expires, sig.alg) == ("k", 1, 2, "ed25519")
    assert sig.params["nonce"] == "n"
    assert sig.signature == b"\x00\x01\x02"
    assert sig.signature_params == (
        '("@method" "@query-param";name="id" "content-digest");'
        'created=1;keyid="k";alg="ed25519";nonce="n";tag="t";expires=2'
    )


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ("sig1=();created=1", "sig2=:AA==:", "no signature"),
        ('sig1="@method"', "sig1=:AA==:", "not an inner list"),
        ("sig1=()", 'sig1="AA=="', "not a byte sequence"),
        ('sig1=("@Method")', "sig1=:AA==:", "not lowercase"),
        ('sig1=("@method" "@method")', "sig1=:AA==:", "covered twice"),
        ("sig1=(method)", "sig1=:AA==:", "must be strings"),
        ("sig1=();created=soon", "sig1=:AA==:", "created must be an integer"),
        ("sig1=();keyid=k", "sig1=:AA==:", "keyid must be a string"),
        ("sig1=(", "sig1=:AA==:", "malformed structured field"),
        ("sig1=()", "sig1=:A!A=:", "malformed structured field"),
    ],
)
def test_parse_rfc9421__rejects_bad_headers(
    signature_input: str, signature: str, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        parse_rfc9421({"Signature-Input": signature_input, "Signature": signature})


# --- signature_base -----------------------------------------------------------------------


def test_signature_base__derives_every_supported_component() -> None:
    base = signature_base(
        ["@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"],
        {"created": 1},
        method="GET",
        url="HTTPS://B.test:443/a%20b?x=1&y",
        headers={},
    )

    assert base.splitlines() == [
        '"@method": GET',
        '"@target-uri": https://B.test:443/a%20b?x=1&y',
        '"@authority": b.test',
        '"@scheme": https',
        '"@request-target": /a%20b?x=1&y',
        '"@path": /a%20b',
        '"@query": ?x=1&y',
        '"@signature-params": ("@method" "@target-uri" "@authority" "@scheme" '
        '"@request-target" "@path" "@query");created=1',
    ]


def test_signature_base__keeps_a_non_default_port_and_an_empty_query() -> None:
    base = signature_base(
        ["@authority", "@path", "@query"], {}, method="GET", url="http://b.test:8080", headers={}
    )

    assert base.splitlines()[:3] == ['"@authority": b.test:8080', '"@path": /', '"@query": ?']


def test_signature_base__encodes_query_params_like_rfc9421_section_2_2_8() -> None:
    # The example request of RFC 9421 §2.2.8.
    url = (
        "https://example.com/parameters?var=this%20is%20a%20big%0Avalue"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
    )
    names = ["var", "bar", "fa%C3%A7ade%22%3A%20"]
    base = signature_base(
        [f'"@query-param";name="{n}"' for n in names], {}, method="GET", url=url, headers={}
    )

    assert base.splitlines()[:3] == [
        '"@query-param";name="var": this%20is%20a%20big%0Avalue',
        '"@query-param";name="bar": with%20plus%20whitespace',
        '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
    ]


def test_signature_base__serializes_one_dictionary_member_with_key() -> None:
    headers = {"Example-Dict": " a=1,  b=2;x=1;y=2, c=(a   b   c)"}
    base = signature_base(
        ['"example-dict";key="b"', '"example-dict";key="c"'],
        {},
        method="GET",
        url=OUTBOX,
        headers=headers,
    )

    assert base.splitlines()[:2] == [
        '"example-dict";key="b": 2;x=1;y=2',
        '"example-dict";key="c": (a b c)',
    ]


@pytest.mark.parametrize(
    ("component", "reason"),
    [
        ("@status", "unsupported derived component @status"),
        ('"content-type";sf', "unsupported parameters"),
        ('"@method";req', "unsupported parameters"),
        ('"@query-param";name="nope"', "missing or repeated"),
        ("accept", "covered header accept is missing"),
    ],
)
def test_signature_base__rejects_what_it_cannot_build(component: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        signature_base([component], {}, method="GET", url=OUTBOX, headers={"Content-Type": AP_JSON})


# --- RFC 9421 Appendix B ------------------------------------------------------------------

APPENDIX_B: dict[str, Any] = json.loads((RFC / "appendix_b.json").read_text())
RFC_REQUEST = APPENDIX_B["request"]
RFC_NOW = datetime.fromtimestamp(APPENDIX_B["created"], UTC)
# The Appendix B examples use @authority/@path and POST without content-digest (B.2.1
# covers no component at all), so they pass only a relaxed policy; rsa-pss-sha512 is what
# their RSA-PSS key implies.
RFC_POLICY = Rfc9421Policy(
    required_components=(),
    host_components=(),
    digest_required_for=frozenset(),
    rsa_default_alg="rsa-pss-sha512",
)


def _rfc_request(vector: dict[str, Any]) -> Request:
    headers = RFC_REQUEST["headers"] | {
        "Signature-Input": vector["signature_input"],
        "Signature": vector["signature"],
    }
    return RFC_REQUEST["method"], RFC_REQUEST["url"], headers, RFC_REQUEST["body"].encode()


def _rfc_key(vector: dict[str, Any]) -> PublicKey:
    return PublicKey(
        key_id=vector["keyid"], key=load_public_key_pem((RFC / vector["key"]).read_text())
    )


@pytest.mark.parametrize("vector", APPENDIX_B["vectors"], ids=lambda v: v["section"])
def test_signature_base__matches_rfc9421_appendix_b(vector: dict[str, Any]) -> None:
    method, url, headers, _ = _rfc_request(vector)
    (sig,) = parse_rfc9421(headers)

    base = signature_base(sig.components, sig.params, method=method, url=url, headers=headers)

    assert base == "\n".join(vector["base"])
    verify_signature_base(
        base=base, signature=sig.signature, public_key=_rfc_key(vector), alg=vector["alg"]
    )


@pytest.mark.parametrize("vector", APPENDIX_B["vectors"], ids=lambda v: v["section"])
def test_verify_rfc9421__accepts_rfc9421_appendix_b_with_a_relaxed_policy(
    vector: dict[str, Any],
) -> None:
    request = _rfc_request(vector)

    assert verify(request, _rfc_key(vector), RFC_NOW, RFC_POLICY) == vector["keyid"]
    with pytest.raises(SignatureError, match="not covered"):
        verify(request, _rfc_key(vector), RFC_NOW)  # Mastodon's policy
    method, url, headers, body = request
    tampered = headers | {
        "Signature-Input": headers["Signature-Input"].replace("=1618884473", "=1618884474")
    }
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify((method, url, tampered, body), _rfc_key(vector), RFC_NOW, RFC_POLICY)


def test_sign_bytes__reproduces_rfc9421_b_2_6_ed25519() -> None:
    # Ed25519 is deterministic: signing the B.2.6 base with the RFC's test-key-ed25519 must
    # give the RFC's signature byte for byte.
    vector = next(v for v in APPENDIX_B["vectors"] if v["section"] == "B.2.6")
    key = load_private_key_pem((RFC / "test-key-ed25519.pem").read_text())

    signature = sign_bytes(key, "\n".join(vector["base"]).encode())

    assert f"sig-b26=:{base64.b64encode(signature).decode()}:" == vector["signature"]


def test_content_digest_header__matches_rfc9530_example() -> None:
    # RFC 9530 Appendix B: {"hello": "world"} → sha-256=:X48E9qOo…:
    assert content_digest_header(b'{"hello": "world"}') == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )


# --- sign_rfc9421 -------------------------------------------------------------------------


def test_sign_rfc9421__pinned_rsa_post() -> None:
    # Our output for a fixed key (tests/data/signatures/keys/rsa.pem), time and body.
    assert signed()[2] == {
        "Content-Type": "application/activity+json",
        "Content-Digest": "sha-256=:aV+f8A3T/OXk7LhcQAdRM4P9K3VlTxfcN44owM3Icpw=:",
        "Signature-Input": (
            'sig1=("@method" "@target-uri" "content-digest" "content-type");created=1749329495;'
            'keyid="https://a.test/users/alice#main-key";alg="rsa-v1_5-sha256"'
        ),
        "Signature": (
            "sig1=:b4NBgFI+IeQOeqHaDwwA8KIKzbnze1c5tE+2GagYeMUi5AIVizeUmd19fXW5l60cPd7Vq/aLFWv8"
            "i+XdiNMOJY1CPYAYlKtEG+ZlVjZZkwJsFFs2tyYYoLn4HOyaWpDhLjM6V3cnIBIsLHryvDDMvChOLozRzfB7"
            "+6NX+EV7BQUGIKvsP+0lavUD85c2Jd1Cs8VJ82cYswE9svWzkA0xgKO1DeU2V5QEUWAq4TYcxmFjuUPOjImx"
            "FNuCGCdPie5y+sw/V3THg0AobZ3iF8r735pu0eAV8yyVSJjg+tcRWGxPHWPKPyZzrPzEyLgFD1Y2pREgELbV"
            "i3tVcnR+NDCCJA==:"
        ),
    }


def test_sign_rfc9421__pinned_ed25519_post() -> None:
    headers = signed(key=ED_KEY, key_id=ED_ID)[2]

    assert headers["Signature-Input"].endswith(
        ';keyid="https://a.test/users/alice#ed25519-key";alg="ed25519"'
    )
    assert headers["Signature"] == (
        "sig1=:iylwpgFPLNO2vA5BKoDoYu2ZVtmNIO9Nxs+yy0HuHbvYIFB6Gi3/NXeXDfoGrjsPWraZw9gKJ9cLG9OO"
        "27ovBw==:"
    )


def test_sign_rfc9421__get_covers_method_and_target_only() -> None:
    headers = signed("GET", OUTBOX)[2]

    assert "Content-Digest" not in headers
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri");created=')


def test_sign_rfc9421__rejects_a_bad_label() -> None:
    with pytest.raises(SignatureError, match="invalid signature label"):
        sign_rfc9421(
            method="GET",
            url=OUTBOX,
            headers={},
            body=None,
            key_id=RSA_ID,
            private_key=RSA_KEY,
            now=NOW,
            label="Sig 1",
        )


# --- round trips and selection ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "key_id", "public"),
    [(RSA_KEY, RSA_ID, RSA_PUBLIC), (ED_KEY, ED_ID, ED_PUBLIC)],
    ids=["rsa", "ed25519"],
)
def test_verify_rfc9421__accepts_our_post_and_get(
    key: PrivateKeyType, key_id: str, public: PublicKey
) -> None:
    assert verify(signed(key=key, key_id=key_id), public) == key_id
    assert verify(signed("GET", OUTBOX, key=key, key_id=key_id), public) == key_id


def test_verify_rfc9421__picks_the_signature_of_the_given_key() -> None:
    _, _, rsa_headers, _ = signed()
    method, url, ed_headers, body = signed(key=ED_KEY, key_id=ED_ID)
    headers = ed_headers | {
        "Signature-Input": rsa_headers["Signature-Input"]
        + ", "
        + ed_headers["Signature-Input"].replace("sig1=", "sig2="),
        "Signature": rsa_headers["Signature"]
        + ", "
        + ed_headers["Signature"].replace("sig1=", "sig2="),
    }

    assert verify((method, url, headers, body), ED_PUBLIC) == ED_ID
    assert verify((method, url, headers, body), RSA_PUBLIC) == RSA_ID


@pytest.mark.parametrize(
    "age", [timedelta(hours=1, minutes=4), timedelta(minutes=-59), timedelta(0)]
)
def test_verify_rfc9421__accepts_inside_the_time_window(age: timedelta) -> None:
    verify(signed(), now=NOW + age)


def test_verify_rfc9421__honours_expires() -> None:
    request = signed(now=NOW - timedelta(hours=2), expires=NOW + timedelta(hours=1))

    verify(request)
    verify(request, now=NOW + timedelta(hours=1, minutes=59))
    with pytest.raises(SignatureError, match="signature expired"):
        verify(request, now=NOW + timedelta(hours=2, minutes=1))


def test_verify_rfc9421__caps_expires_at_twelve_hours() -> None:
    request = signed(now=NOW - timedelta(hours=13, minutes=1), expires=NOW + timedelta(hours=24))

    with pytest.raises(SignatureError, match="signature expired"):
        verify(request)


# --- mutations and policy -----------------------------------------------------------------

Mutation = Callable[[Request], Request]


def _header(name: str, value: str) -> Mutation:
    return lambda r: (r[0], r[1], r[2] | {name: value}, r[3])


MUTATIONS: dict[str, Mutation] = {
    "body": lambda r: (r[0], r[1], r[2], r[3] + b" "),
    "method": lambda r: ("PUT", r[1], r[2], r[3]),
    "path": lambda r: (r[0], r[1].replace("/inbox", "/outbox"), r[2], r[3]),
    "query": lambda r: (r[0], r[1] + "?x=1", r[2], r[3]),
    "host": lambda r: (r[0], r[1].replace("b.test", "c.test"), r[2], r[3]),
    "scheme": lambda r: (r[0], r[1].replace("https:", "http:"), r[2], r[3]),
    "content-type": _header("Content-Type", "application/json"),
    "content-digest": _header("Content-Digest", content_digest_header(b"{}")),
    "created": lambda r: (
        r[0],
        r[1],
        r[2] | {"Signature-Input": r[2]["Signature-Input"].replace("=1749329495", "=1749329496")},
        r[3],
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=str)
def test_verify_rfc9421__rejects_a_mutated_post(mutation: str) -> None:
    with pytest.raises(SignatureError):
        verify(MUTATIONS[mutation](signed()))


def test_verify_rfc9421__rejects_a_mutated_get_query() -> None:
    method, url, headers, body = signed("GET", OUTBOX)

    with pytest.raises(SignatureError, match="signature does not verify"):
        verify((method, url.replace("page=true", "page=false"), headers, body))


def test_verify_rfc9421__rejects_another_key() -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify(signed(), OTHER_PUBLIC)


@pytest.mark.parametrize(
    ("shift", "reason"),
    [
        (timedelta(hours=1, minutes=6), "signature expired"),
        (timedelta(hours=-1, minutes=-1), "signature created in the future"),
    ],
    ids=["stale", "future"],
)
def test_verify_rfc9421__rejects_outside_the_time_window(shift: timedelta, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(signed(), now=NOW + shift)


@pytest.mark.parametrize(
    ("components", "params", "method", "reason"),
    [
        ('"@method" "@target-uri"', f";created={CREATED}", "GET", "signature has no keyid"),
        ('"@method" "@target-uri"', KEYID, "GET", "signature has no created"),
        (
            '"@method" "@authority" "@path" "@query"',
            f";created={CREATED}{KEYID}",
            "GET",
            "@target-uri not covered",
        ),
        ('"@target-uri"', f";created={CREATED}{KEYID}", "GET", "@method not covered"),
        (
            '"@method" "@target-uri"',
            f";created={CREATED}{KEYID}",
            "POST",
            "content-digest not covered",
        ),
        (
            '"@method" "@target-uri"',
            f';created={CREATED}{KEYID};alg="hmac-sha256"',
            "GET",
            "unsupported signature algorithm hmac-sha256",
        ),
        (
            '"@method" "@target-uri"',
            f';created={CREATED}{KEYID};alg="ecdsa-p256-sha256"',
            "GET",
            "unsupported signature algorithm ecdsa-p256-sha256",
        ),
        (
            '"@method" "@target-uri"',
            f';created={CREATED}{KEYID};alg="ed25519"',
            "GET",
            "algorithm ed25519 does not match an RSA key",
        ),
        (
            '"@method" "@target-uri"',
            f";created=99999999999999{KEYID}",
            "GET",
            "invalid created parameter",
        ),
    ],
)
def test_verify_rfc9421__enforces_mastodon_rules(
    components: str, params: str, method: str, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(by_hand(components, params, method=method))


def test_verify_rfc9421__takes_rsa_v1_5_sha256_for_an_rsa_key_without_alg() -> None:
    assert verify(by_hand('"@method" "@target-uri"', f";created={CREATED}{KEYID}")) == RSA_ID


def test_verify_rfc9421__rejects_a_pkcs1_signature_named_rsa_pss() -> None:
    # `by_hand` signs RSASSA-PKCS1-v1_5; PSS verification (see the RFC vectors) must refuse it.
    pss = by_hand('"@method" "@target-uri"', f';created={CREATED}{KEYID};alg="rsa-pss-sha512"')

    with pytest.raises(SignatureError, match="signature does not verify"):
        verify(pss)


def test_verify_rfc9421__rejects_a_covered_digest_that_does_not_match() -> None:
    method, url, headers, _ = signed()

    with pytest.raises(SignatureError, match="digest does not match the body"):
        verify((method, url, headers, b"{}"))


def test_verify_rfc9421__rejects_a_request_without_signature() -> None:
    with pytest.raises(SignatureError, match="no signature"):
        verify(("GET", OUTBOX, {"Signature": "sig1=:AA==:"}, b""))
