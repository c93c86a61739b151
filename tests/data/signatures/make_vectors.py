"""Produce tests/data/signatures/vectors.json with implementations that are not ours.

Not run by the test suite, and deliberately imports nothing from `kizuna`. It needs
`http-message-signatures` (RFC 9421), `httpsig` (draft-cavage) and `cryptography`:

    python3 -m venv /tmp/sigvec
    /tmp/sigvec/bin/pip install http-message-signatures httpsig cryptography
    /tmp/sigvec/bin/python tests/data/signatures/make_vectors.py     # from the repo root

It does two things (see README.md beside it):
1. signs fixed requests (fixed keys from keys/, fixed Date / created, fixed bodies) with
   those libraries; `tests/unit/test_signatures_interop.py` verifies them with our code;
2. verifies the requests our signer produced (ours.json, written by
   `KIZUNA_UPDATE_VECTORS=1 .venv/bin/pytest tests/unit/test_signatures_interop.py`) with
   those libraries, and records the outcome plus the SHA-256 of the ours.json it checked.
Keys are generated once, only when keys/ lacks them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Installed only in the scratch venv, not in .venv where mypy runs.
import http_message_signatures as hms  # type: ignore[import-not-found, unused-ignore]
import httpsig  # type: ignore[import-not-found, unused-ignore]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

HERE = Path(__file__).resolve().parent
KEYS = HERE / "keys"
CREATED = datetime(2025, 6, 7, 20, 51, 35, tzinfo=UTC)
NOW = CREATED + timedelta(seconds=30)
DATE = format_datetime(CREATED, usegmt=True)
RSA_KEY_ID = "https://a.test/users/alice#main-key"
ED_KEY_ID = "https://a.test/users/alice#ed25519-key"
HMAC_SECRET = b"not-a-public-key-secret"
FOLLOW = (
    b'{"@context":"https://www.w3.org/ns/activitystreams","id":"https://a.test/follows/1",'
    b'"type":"Follow","actor":"https://a.test/users/alice","object":"https://b.test/users/bob"}'
)
AP_JSON = "application/activity+json"
LIBRARIES = ("http-message-signatures", "http-sf", "httpsig", "pycryptodome", "cryptography")


def _write_key(name: str, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> None:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (KEYS / f"{name}.pem").write_bytes(private)
    (KEYS / f"{name}.pub.pem").write_bytes(public)


def ensure_keys() -> None:
    KEYS.mkdir(exist_ok=True)
    for name in ("rsa", "rsa-other"):
        if not (KEYS / f"{name}.pem").exists():
            _write_key(name, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if not (KEYS / "ed25519.pem").exists():
        _write_key("ed25519", ed25519.Ed25519PrivateKey.generate())


def _pem(name: str) -> bytes:
    return (KEYS / name).read_bytes()


def _digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _path_qs(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _vector(name: str, scheme: str, library: str, key: str, **fields: Any) -> dict[str, Any]:
    body = fields.pop("body", b"")
    return {
        "name": name,
        "scheme": scheme,
        "signed_by": f"{library} {version(library)}",
        "key": key,
        **fields,
        "body": body.decode("utf-8"),
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def cavage_vector(
    name: str,
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    signed: list[str] | None,
    body: bytes = b"",
    algorithm: str = "rsa-sha256",
    signed_path: str | None = None,
    expect: str = "accept",
    reason: str = "",
) -> dict[str, Any]:
    secret = HMAC_SECRET if algorithm.startswith("hmac") else _pem("rsa.pem")
    signer = httpsig.HeaderSigner(
        RSA_KEY_ID, secret, algorithm=algorithm, headers=signed, sign_header="signature"
    )
    path = signed_path if signed_path is not None else _path_qs(url)
    out = signer.sign(dict(headers), method=method, path=path)
    names = {k.lower(): k for k in headers}
    sent = {names.get(k, k.capitalize()): v for k, v in out.items()}
    return _vector(
        name,
        "cavage",
        "httpsig",
        "rsa",
        method=method,
        url=url,
        headers=sent,
        body=body,
        expect=expect,
        reason=reason,
    )


class Message:
    """The request shape http-message-signatures reads: method, absolute url, headers."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


def _algorithm(name: str) -> Any:
    return {
        "rsa": hms.algorithms.RSA_V1_5_SHA256,
        "rsa-pss": hms.algorithms.RSA_PSS_SHA512,
        "ed25519": hms.algorithms.ED25519,
        "hmac": hms.algorithms.HMAC_SHA256,
    }[name]


def _private_key(name: str) -> Any:
    if name == "hmac":
        return HMAC_SECRET
    pem = _pem("ed25519.pem" if name == "ed25519" else "rsa.pem")
    return serialization.load_pem_private_key(pem, password=None)


def rfc9421_vector(
    name: str,
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    covered: tuple[str, ...],
    algorithm: str = "rsa",
    body: bytes | None = None,
    include_alg: bool = True,
    created: datetime = CREATED,
    expires: datetime | None = None,
    expect: str = "accept",
    reason: str = "",
) -> dict[str, Any]:
    key_id = ED_KEY_ID if algorithm == "ed25519" else RSA_KEY_ID
    message = Message(method, url, dict(headers))
    resolver = hms.MappingKeyResolver(
        public_keys={}, private_keys={key_id: _private_key(algorithm)}
    )
    signer = hms.HTTPMessageSigner(signature_algorithm=_algorithm(algorithm), key_resolver=resolver)
    signer.sign(
        message,
        key_id=key_id,
        created=created,
        expires=expires,
        label="sig1",
        include_alg=include_alg,
        covered_component_ids=covered,
        body=body,
    )
    return _vector(
        name,
        "rfc9421",
        "http-message-signatures",
        "ed25519" if algorithm == "ed25519" else "rsa",
        method=method,
        url=url,
        headers=message.headers,
        body=body or b"",
        expect=expect,
        reason=reason,
    )


def independent_vectors() -> list[dict[str, Any]]:
    post = {"Host": "b.test", "Date": DATE, "Digest": _digest(FOLLOW), "Content-Type": AP_JSON}
    get = {"Host": "b.test", "Date": DATE, "Accept": AP_JSON}
    post_signed = ["(request-target)", "host", "date", "digest", "content-type"]
    inbox = "https://b.test/users/bob/inbox"
    outbox = "https://b.test/users/bob/outbox?page=true"
    ap_post = {"Content-Type": AP_JSON}
    return [
        cavage_vector(
            "cavage-rsa-post",
            method="POST",
            url=inbox,
            headers=post,
            signed=post_signed,
            body=FOLLOW,
        ),
        cavage_vector(
            "cavage-rsa-get-query",
            method="GET",
            url=outbox,
            headers=get,
            signed=["(request-target)", "host", "date", "accept"],
        ),
        cavage_vector(
            "cavage-rsa-post-port",
            method="POST",
            url="https://b.test:8443/inbox",
            headers={**post, "Host": "b.test:8443"},
            signed=post_signed,
            body=FOLLOW,
        ),
        cavage_vector(
            "cavage-rsa-query-left-out",
            method="GET",
            url=outbox,
            headers=get,
            signed=["(request-target)", "host", "date"],
            signed_path="/users/bob/outbox",
        ),
        cavage_vector(
            "cavage-rsa-date-only",
            method="POST",
            url=inbox,
            headers=post,
            signed=None,
            body=FOLLOW,
            expect="reject",
            reason="(request-target) not signed",
        ),
        cavage_vector(
            "cavage-rsa-get-without-host",
            method="GET",
            url=outbox,
            headers=get,
            signed=["(request-target)", "date"],
            expect="reject",
            reason="host not signed",
        ),
        cavage_vector(
            "cavage-hmac-sha256",
            method="POST",
            url=inbox,
            headers=post,
            signed=post_signed,
            body=FOLLOW,
            algorithm="hmac-sha256",
            expect="reject",
            reason="unsupported signature algorithm hmac-sha256",
        ),
        rfc9421_vector(
            "rfc9421-rsa-post",
            method="POST",
            url=inbox,
            headers=ap_post,
            covered=("@method", "@target-uri", "content-type"),
            body=FOLLOW,
        ),
        rfc9421_vector(
            "rfc9421-ed25519-post",
            method="POST",
            url=inbox,
            headers=ap_post,
            covered=("@method", "@target-uri", "content-type"),
            algorithm="ed25519",
            body=FOLLOW,
        ),
        rfc9421_vector(
            "rfc9421-rsa-pss-post",
            method="POST",
            url=inbox,
            headers=ap_post,
            covered=("@method", "@target-uri"),
            algorithm="rsa-pss",
            body=FOLLOW,
        ),
        rfc9421_vector(
            "rfc9421-rsa-get-query",
            method="GET",
            url=outbox,
            headers={"Accept": AP_JSON},
            covered=(
                "@method",
                "@target-uri",
                "@authority",
                "@scheme",
                "@request-target",
                "@path",
                "@query",
                '"@query-param";name="page"',
                "accept",
            ),
        ),
        rfc9421_vector(
            "rfc9421-rsa-without-alg",
            method="GET",
            url=outbox,
            headers={},
            covered=("@method", "@target-uri"),
            include_alg=False,
        ),
        rfc9421_vector(
            "rfc9421-rsa-expires",
            method="GET",
            url=outbox,
            headers={},
            covered=("@method", "@target-uri"),
            created=CREATED - timedelta(hours=2),
            expires=CREATED + timedelta(hours=1),
        ),
        rfc9421_vector(
            "rfc9421-rsa-authority-path",
            method="GET",
            url=outbox,
            headers={},
            covered=("@method", "@authority", "@path", "@query"),
            expect="reject",
            reason="@target-uri not covered",
        ),
        rfc9421_vector(
            "rfc9421-rsa-post-without-digest",
            method="POST",
            url=inbox,
            headers=ap_post,
            covered=("@method", "@target-uri", "content-type"),
            expect="reject",
            reason="content-digest not covered",
        ),
        rfc9421_vector(
            "rfc9421-hmac-sha256",
            method="GET",
            url=outbox,
            headers={},
            covered=("@method", "@target-uri"),
            algorithm="hmac",
            expect="reject",
            reason="unsupported signature algorithm hmac-sha256",
        ),
    ]


def _verify_ours_cavage(entry: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, str] = entry["headers"]
    signature = httpsig.utils.parse_signature_header(headers["Signature"])
    if entry["key"] != "rsa":
        return {"verified_by_independent": None, "note": "httpsig has no Ed25519 / hs2019"}
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=_pem("rsa.pub.pem"),
        required_headers=signature["headers"].split(),
        method=entry["method"],
        path=_path_qs(entry["url"]),
        sign_header="signature",
    )
    verified = bool(verifier.verify())
    body = entry["body"].encode("utf-8")
    if "Digest" in headers:  # httpsig does not look at the body; hashlib does
        verified = verified and headers["Digest"] == _digest(body)
    return {"verified_by_independent": verified, "library": f"httpsig {version('httpsig')}"}


def _verify_ours_rfc9421(entry: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, str] = entry["headers"]
    if entry["key"] == "ed25519":
        algorithm, key_id, pem = "ed25519", ED_KEY_ID, _pem("ed25519.pub.pem")
    else:
        algorithm, key_id, pem = "rsa", RSA_KEY_ID, _pem("rsa.pub.pem")
    resolver = hms.MappingKeyResolver(
        public_keys={key_id: serialization.load_pem_public_key(pem)}, private_keys={}
    )
    verifier = hms.HTTPMessageVerifier(
        signature_algorithm=_algorithm(algorithm), key_resolver=resolver
    )
    body = entry["body"].encode("utf-8")
    results = verifier.verify(
        Message(entry["method"], entry["url"], dict(headers)),
        max_age=None,
        require_components=("@method", "@target-uri"),
        body=body if entry["method"] == "POST" else None,
    )
    covered = sorted(results[0].covered_components)
    library = f"http-message-signatures {version('http-message-signatures')}"
    return {"verified_by_independent": len(results) == 1, "library": library, "covered": covered}


def verify_ours() -> dict[str, Any]:
    raw = (HERE / "ours.json").read_bytes()
    results = []
    for entry in json.loads(raw)["requests"]:
        check = _verify_ours_cavage if entry["scheme"] == "cavage" else _verify_ours_rfc9421
        results.append({"name": entry["name"], **check(entry)})
    return {"ours_json_sha256": hashlib.sha256(raw).hexdigest(), "results": results}


def main() -> None:
    ensure_keys()
    document = {
        "generated_by": "tests/data/signatures/make_vectors.py",
        "libraries": {name: version(name) for name in LIBRARIES},
        "key_ids": {"rsa": RSA_KEY_ID, "ed25519": ED_KEY_ID},
        "vectors": independent_vectors(),
        "ours": verify_ours() if (HERE / "ours.json").exists() else None,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (HERE / "vectors.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
