"""Interop with implementations that are not ours (see tests/data/signatures/README.md).

- vectors.json: requests signed by `httpsig` (cavage) and `http-message-signatures`
  (RFC 9421) must verify with `verify_request` (or be refused for the recorded reason),
  and tampered copies must be refused;
- ours.json: what our signers produce for fixed inputs (regenerate with
  KIZUNA_UPDATE_VECTORS=1); make_vectors.py verified exactly that file with the same two
  libraries and recorded the result and the file's SHA-256 in vectors.json.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.signatures import (
    PublicKey,
    key_id_of,
    load_private_key_pem,
    load_public_key_pem,
    parse_cavage,
    parse_rfc9421,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "signatures"
VECTORS: dict[str, Any] = json.loads((DATA / "vectors.json").read_text(encoding="utf-8"))
OURS_PATH = DATA / "ours.json"
UPDATE_ENV = "KIZUNA_UPDATE_VECTORS"
KEY_IDS: dict[str, str] = VECTORS["key_ids"]
PUBLIC = {
    name: PublicKey(
        key_id=KEY_IDS[name],
        key=load_public_key_pem((DATA / "keys" / f"{name}.pub.pem").read_text()),
    )
    for name in ("rsa", "ed25519")
}
OTHER_RSA = PublicKey(
    key_id=KEY_IDS["rsa"],
    key=load_public_key_pem((DATA / "keys" / "rsa-other.pub.pem").read_text()),
)
ACCEPTED = [v for v in VECTORS["vectors"] if v["expect"] == "accept"]
# Signed without the query: Mastodon's compatibility retry accepts any query there.
QUERY_NOT_SIGNED = {"cavage-rsa-query-left-out"}

Request = tuple[str, str, dict[str, str], bytes]


def _now(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["now"])


def _request(entry: dict[str, Any]) -> Request:
    return entry["method"], entry["url"], dict(entry["headers"]), entry["body"].encode("utf-8")


def _verify(request: Request, public_key: PublicKey, now: datetime) -> tuple[str, str]:
    method, url, headers, body = request
    verified = verify_request(
        method=method, url=url, headers=headers, body=body, public_key=public_key, now=now
    )
    return verified.scheme, verified.key_id


# --- independent signers → our verifier ---------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_verify_request__handles_independent_vector(vector: dict[str, Any]) -> None:
    request, key, now = _request(vector), PUBLIC[vector["key"]], _now(vector)

    if vector["expect"] == "accept":
        assert _verify(request, key, now) == (vector["scheme"], KEY_IDS[vector["key"]])
    else:
        with pytest.raises(
            SignatureError, match=vector["reason"].replace("(", r"\(").replace(")", r"\)")
        ):
            _verify(request, key, now)


def _covered_headers(vector: dict[str, Any]) -> list[str]:
    headers = vector["headers"]
    if vector["scheme"] == "cavage":
        names = parse_cavage(headers["Signature"]).headers
    else:
        names = tuple(c.strip('"') for c in parse_rfc9421(headers)[0].components)
    return [n for n in names if not n.startswith(("(", "@"))]


def _append_to_header(name: str) -> Callable[[Request], Request]:
    return lambda r: (r[0], r[1], r[2] | {name: r[2][name] + "1"}, r[3])


def _tamperings(vector: dict[str, Any]) -> dict[str, Callable[[Request], Request]]:
    out: dict[str, Callable[[Request], Request]] = {
        "method": lambda r: ("PATCH", r[1], r[2], r[3]),
        "path": lambda r: (
            r[0],
            r[1].replace("/bob", "/carol").replace("/inbox", "/outbox"),
            r[2],
            r[3],
        ),
        "host": lambda r: (r[0], r[1].replace("b.test", "c.test"), r[2], r[3]),
    }
    if vector["body"]:
        out["body"] = lambda r: (r[0], r[1], r[2], r[3] + b"\n")
    if "?" in vector["url"] and vector["name"] not in QUERY_NOT_SIGNED:
        out["query"] = lambda r: (r[0], r[1].replace("=true", "=false"), r[2], r[3])
    for name in _covered_headers(vector):
        original = next(k for k in vector["headers"] if k.lower() == name)
        out[f"header:{name}"] = _append_to_header(original)
    if vector["scheme"] == "cavage":
        # Host is a signed header for cavage: the URL's host alone does not reach it.
        out["host"] = lambda r: (r[0], r[1], r[2] | {"Host": "c.test"}, r[3])
    return out


TAMPERED = [
    pytest.param(vector, name, id=f"{vector['name']}-{name}")
    for vector in ACCEPTED
    for name in _tamperings(vector)
]


@pytest.mark.parametrize(("vector", "tampering"), TAMPERED)
def test_verify_request__rejects_tampered_independent_vector(
    vector: dict[str, Any], tampering: str
) -> None:
    request = _tamperings(vector)[tampering](_request(vector))

    with pytest.raises(SignatureError):
        _verify(request, PUBLIC[vector["key"]], _now(vector))


@pytest.mark.parametrize(
    "vector", [v for v in ACCEPTED if v["key"] == "rsa"], ids=lambda v: v["name"]
)
def test_verify_request__rejects_independent_vector_with_another_key(
    vector: dict[str, Any],
) -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        _verify(_request(vector), OTHER_RSA, _now(vector))


# --- our signer → independent verifiers ----------------------------------------------------

FOLLOW = (
    b'{"@context":"https://www.w3.org/ns/activitystreams","id":"https://a.test/follows/1",'
    b'"type":"Follow","actor":"https://a.test/users/alice","object":"https://b.test/users/bob"}'
)
AP_JSON = "application/activity+json"
SIGNED_AT = datetime(2025, 6, 7, 20, 51, 35, tzinfo=UTC)
OURS_SPECS: list[tuple[str, str, str, str, str, dict[str, str], bytes | None]] = [
    (
        "ours-cavage-rsa-post",
        "cavage",
        "rsa",
        "POST",
        "https://b.test/users/bob/inbox",
        {"Content-Type": AP_JSON},
        FOLLOW,
    ),
    (
        "ours-cavage-rsa-get-query",
        "cavage",
        "rsa",
        "GET",
        "https://b.test/users/bob/outbox?page=true",
        {"Accept": AP_JSON},
        None,
    ),
    (
        "ours-cavage-rsa-post-port",
        "cavage",
        "rsa",
        "POST",
        "https://b.test:8443/inbox",
        {"Content-Type": AP_JSON},
        FOLLOW,
    ),
    (
        "ours-cavage-ed25519-post",
        "cavage",
        "ed25519",
        "POST",
        "https://b.test/users/bob/inbox",
        {"Content-Type": AP_JSON},
        FOLLOW,
    ),
    (
        "ours-rfc9421-rsa-post",
        "rfc9421",
        "rsa",
        "POST",
        "https://b.test/users/bob/inbox",
        {"Content-Type": AP_JSON},
        FOLLOW,
    ),
    (
        "ours-rfc9421-ed25519-post",
        "rfc9421",
        "ed25519",
        "POST",
        "https://b.test/users/bob/inbox",
        {"Content-Type": AP_JSON},
        FOLLOW,
    ),
    (
        "ours-rfc9421-rsa-get-query",
        "rfc9421",
        "rsa",
        "GET",
        "https://b.test/users/bob/outbox?page=true",
        {"Accept": AP_JSON},
        None,
    ),
]


def _ours() -> dict[str, Any]:
    requests = []
    for name, scheme, key, method, url, headers, body in OURS_SPECS:
        private_key = load_private_key_pem((DATA / "keys" / f"{key}.pem").read_text())
        sign = sign_cavage if scheme == "cavage" else sign_rfc9421
        added = sign(
            method=method,
            url=url,
            headers=headers,
            body=body,
            key_id=KEY_IDS[key],
            private_key=private_key,
            now=SIGNED_AT,
        )
        requests.append(
            {
                "name": name,
                "scheme": scheme,
                "key": key,
                "method": method,
                "url": url,
                "headers": headers | added,
                "body": (body or b"").decode("utf-8"),
                "now": "2025-06-07T20:52:05Z",
            }
        )
    return {
        "generated_by": f"tests/unit/test_signatures_interop.py ({UPDATE_ENV}=1)",
        "requests": requests,
    }


def test_ours_json__is_what_our_signers_produce() -> None:
    actual = _ours()
    if os.environ.get(UPDATE_ENV) == "1":
        OURS_PATH.write_text(json.dumps(actual, indent=2) + "\n", encoding="utf-8")
    if not OURS_PATH.exists():
        pytest.fail(f"missing {OURS_PATH}; create it with {UPDATE_ENV}=1")

    assert json.loads(OURS_PATH.read_text(encoding="utf-8")) == actual


def test_ours_json__was_verified_by_independent_implementations() -> None:
    record = VECTORS["ours"]
    results = {r["name"]: r for r in record["results"]}

    # The record is about exactly the committed ours.json; rerun make_vectors.py if not.
    assert record["ours_json_sha256"] == hashlib.sha256(OURS_PATH.read_bytes()).hexdigest()
    assert sorted(results) == sorted(spec[0] for spec in OURS_SPECS)
    for name, result in results.items():
        if name == "ours-cavage-ed25519-post":  # httpsig has no Ed25519
            assert result["verified_by_independent"] is None, result
        else:
            assert result["verified_by_independent"] is True, result


@pytest.mark.parametrize("entry", _ours()["requests"], ids=lambda e: e["name"])
def test_verify_request__accepts_our_own_requests(entry: dict[str, Any]) -> None:
    assert _verify(_request(entry), PUBLIC[entry["key"]], _now(entry)) == (
        entry["scheme"],
        KEY_IDS[entry["key"]],
    )


# --- scheme selection ----------------------------------------------------------------------


def _by_name(name: str) -> dict[str, Any]:
    return next(v for v in VECTORS["vectors"] if v["name"] == name)


def test_key_id_of__reads_either_scheme() -> None:
    assert key_id_of(_by_name("cavage-rsa-post")["headers"]) == ("cavage", KEY_IDS["rsa"])
    assert key_id_of(_by_name("rfc9421-ed25519-post")["headers"]) == (
        "rfc9421",
        KEY_IDS["ed25519"],
    )


def test_key_id_of__prefers_rfc9421_when_signature_input_is_present() -> None:
    # Mixing a cavage Signature with Signature-Input fails, as it does on Mastodon.
    headers = _by_name("cavage-rsa-post")["headers"] | {"Signature-Input": "sig1=();created=1"}

    with pytest.raises(SignatureError, match="malformed structured field"):
        key_id_of(headers)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Host": "b.test"}, "no signature"),
        ({"Signature-Input": "sig1=()", "Signature": "sig1=:AA==:"}, "no keyid"),
    ],
)
def test_key_id_of__rejects_unsigned_requests(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        key_id_of(headers)


@pytest.mark.parametrize("key_id", ["https://[oops/key", "acct:eve@m.test", "main-key"])
def test_key_id_of__rejects_a_key_id_that_is_no_http_url(key_id: str) -> None:
    signature = f'keyId="{key_id}",algorithm="rsa-sha256",headers="date",signature="AA=="'

    with pytest.raises(SignatureError, match="not an http"):
        key_id_of({"Signature": signature})


def test_verify_request__rejects_an_unsigned_request() -> None:
    with pytest.raises(SignatureError, match="no signature"):
        _verify(("GET", "https://b.test/", {"Host": "b.test"}, b""), PUBLIC["rsa"], SIGNED_AT)
