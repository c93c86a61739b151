"""RFC 9421 HTTP Message Signatures (requests only), with RFC 9530 `Content-Digest`.

`verify_rfc9421` applies Mastodon's policy by default (SignedRequest::HttpMessageSignature
in app/lib/signed_request.rb): `keyid` and `created` required, `@method` and `@target-uri`
covered (@target-uri or @authority binds the signature to our host), a POST covers
`content-digest` and it matches the body, the cavage time window.
Mastodon treats every key as rsa-v1_5-sha256; we also honour `alg` (rsa-v1_5-sha256,
rsa-pss-sha512, ed25519) and Ed25519 keys. A `Rfc9421Policy` relaxes the coverage rules
for other profiles, such as the RFC's own Appendix B examples.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kizuna.activitypub.errors import SignatureError

from .algorithms import (
    algorithm_for_key,
    check_algorithm,
    check_time_window,
    sign_bytes,
    verify_bytes,
)
from .base import signature_base, signature_params
from .digest import check_content_digest, content_digest_header
from .keys import PrivateKeyType, PublicKey
from .message import from_timestamp, lower_headers, utc
from .sfv import (
    InnerList,
    Item,
    Params,
    Token,
    parse_dictionary,
    parse_item,
    serialize_item,
)

__all__ = [
    "MASTODON_POLICY",
    "Rfc9421Policy",
    "Rfc9421Signature",
    "parse_rfc9421",
    "sign_rfc9421",
    "signature_base",
    "verify_rfc9421",
    "verify_signature_base",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rfc9421Signature:
    """One member of `Signature-Input` with its `Signature`.

    `components` are serialized component identifiers, e.g. '"@method"' or
    '"@query-param";name="id"'; `signature_params` is the `@signature-params` value.
    """

    label: str
    components: tuple[str, ...]
    params: Params
    signature: bytes = field(repr=False)
    signature_params: str

    @property
    def key_id(self) -> str | None:
        value = self.params.get("keyid")
        return value if isinstance(value, str) else None

    @property
    def created(self) -> int | None:
        value = self.params.get("created")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def expires(self) -> int | None:
        value = self.params.get("expires")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def alg(self) -> str | None:
        value = self.params.get("alg")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rfc9421Policy:
    """What a signature must cover beyond verifying (defaults: Mastodon's rules)."""

    required_components: tuple[str, ...] = ('"@method"', '"@target-uri"')
    # At least one of these must be covered: they carry our host, so a signature made for
    # another server's inbox cannot be replayed to ours (cf. cavage `host`).
    host_components: tuple[str, ...] = ('"@target-uri"', '"@authority"')
    digest_required_for: frozenset[str] = frozenset({"POST"})
    rsa_default_alg: str = "rsa-v1_5-sha256"  # when `alg` is absent and the key is RSA


MASTODON_POLICY = Rfc9421Policy()


def parse_rfc9421(headers: Mapping[str, str]) -> tuple[Rfc9421Signature, ...]:
    """Every label present in both `Signature-Input` and `Signature`, in input order."""
    lowered = lower_headers(headers)
    if "signature-input" not in lowered or "signature" not in lowered:
        raise SignatureError("no signature")
    inputs = parse_dictionary(lowered["signature-input"])
    values = parse_dictionary(lowered["signature"])
    found: list[Rfc9421Signature] = []
    for label, member in inputs.items():
        if label not in values:
            continue
        value = values[label]
        if not isinstance(member, InnerList):
            raise SignatureError(f"signature-input {label} is not an inner list")
        if not isinstance(value, Item) or not isinstance(value.value, bytes):
            raise SignatureError(f"signature {label} is not a byte sequence")
        identifiers: list[str] = []
        for item in member.items:
            if not isinstance(item.value, str) or isinstance(item.value, Token):
                raise SignatureError("component identifiers must be strings")
            if item.value != item.value.lower():
                raise SignatureError(f"component {item.value} is not lowercase")
            identifiers.append(serialize_item(item))
        if len(set(identifiers)) != len(identifiers):
            raise SignatureError("a component is covered twice")
        found.append(
            Rfc9421Signature(
                label=label,
                components=tuple(identifiers),
                params=dict(member.params),
                signature=value.value,
                signature_params=signature_params(member.items, member.params),
            )
        )
    if not found:
        raise SignatureError("no signature")
    return tuple(found)


def verify_signature_base(
    *, base: str, signature: bytes, public_key: PublicKey, alg: str | None = None
) -> None:
    """Check `signature` over an already built signature base (RFC 9421 §3.2 step 8)."""
    algorithm = alg or algorithm_for_key(public_key.key)
    verify_bytes(public_key.key, algorithm, signature, base.encode("ascii"))


def sign_rfc9421(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKeyType,
    now: datetime,
    label: str = "sig1",
    expires: datetime | None = None,
) -> dict[str, str]:
    """Headers to add: Content-Digest (with a body; a POST always has one),
    Signature-Input and Signature, covering @method, @target-uri and, with a body,
    content-digest and content-type (if `headers` has it); params created, keyid, alg."""
    try:
        valid_label = list(parse_dictionary(f"{label}=?1")) == [label]
    except SignatureError:
        valid_label = False
    if not valid_label:
        raise SignatureError(f"invalid signature label {label!r}")
    lowered = lower_headers(headers)
    if body is None and method.upper() == "POST":
        body = b""
    added: dict[str, str] = {}
    components = ["@method", "@target-uri"]
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
        lowered["content-digest"] = added["Content-Digest"]
        components += (
            ["content-digest", "content-type"] if "content-type" in lowered else ["content-digest"]
        )
    params: Params = {
        "created": int(utc(now).timestamp()),
        "keyid": key_id,
        "alg": algorithm_for_key(private_key),
    }
    if expires is not None:
        params["expires"] = int(utc(expires).timestamp())
    base = signature_base(components, params, method=method, url=url, headers=lowered)
    signature = base64.b64encode(sign_bytes(private_key, base.encode("ascii"))).decode("ascii")
    items = [Item(value=name) for name in components]
    added["Signature-Input"] = f"{label}={signature_params(items, params)}"
    added["Signature"] = f"{label}=:{signature}:"
    return added


def _choose(signatures: tuple[Rfc9421Signature, ...], key_id: str) -> Rfc9421Signature:
    for candidate in signatures:
        if candidate.key_id == key_id:
            return candidate
    return signatures[0]


def verify_rfc9421(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: PublicKey,
    now: datetime,
    policy: Rfc9421Policy = MASTODON_POLICY,
) -> str:
    """Verify the signature whose keyid is `public_key.key_id` (else the first one);
    return its keyid. Raise SignatureError on any failure."""
    lowered = lower_headers(headers)
    sig = _choose(parse_rfc9421(lowered), public_key.key_id)
    if sig.key_id is None:
        raise SignatureError("signature has no keyid")
    if sig.created is None:
        raise SignatureError("signature has no created")
    for component in policy.required_components:
        if component not in sig.components:
            raise SignatureError(component.strip('"') + " not covered")
    if policy.host_components and not set(policy.host_components) & set(sig.components):
        raise SignatureError("neither @target-uri nor @authority covered")
    digest_covered = '"content-digest"' in sig.components
    if method.upper() in policy.digest_required_for and not digest_covered:
        raise SignatureError("content-digest not covered")
    default_alg = "ed25519" if public_key.kind == "ed25519" else policy.rsa_default_alg
    algorithm = sig.alg or default_alg
    check_algorithm(public_key.key, algorithm)
    base = signature_base(
        [parse_item(c) for c in sig.components], sig.params, method=method, url=url, headers=lowered
    )
    expires_at = from_timestamp(sig.expires, "expires") if sig.expires is not None else None
    check_time_window(created=from_timestamp(sig.created, "created"), expires=expires_at, now=now)
    if digest_covered:
        check_content_digest(lowered["content-digest"], body)
    verify_bytes(public_key.key, algorithm, sig.signature, base.encode("ascii"))
    return sig.key_id
