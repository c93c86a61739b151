"""A signature must name the server it was made for: cavage `host`, RFC 9421 `@target-uri`
or `@authority`. Otherwise a POST signed for another server's shared inbox verifies here."""

from __future__ import annotations

import pytest

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.signatures import (
    MASTODON_POLICY,
    Rfc9421Policy,
    content_digest_header,
    digest_header,
)
from tests.unit import test_signatures_cavage as cavage
from tests.unit import test_signatures_rfc9421 as rfc9421

SHARED_INBOX = "https://b.test/inbox"
OTHER_INBOX = "https://c.test/inbox"


def _cavage_post(names: str, *, url: str = SHARED_INBOX) -> cavage.Request:
    method, url, headers, _ = cavage.hand_signed(
        names,
        method="POST",
        url=url,
        algorithm="rsa-sha256",
        extra={"Digest": digest_header(b""), "Content-Type": cavage.AP_JSON},
    )
    return method, url, headers, b""


@pytest.mark.parametrize(
    "names",
    ["(request-target) date digest", "(request-target) date digest content-type"],
)
def test_verify_cavage__rejects_a_post_without_host(names: str) -> None:
    with pytest.raises(SignatureError, match="host not signed"):
        cavage.verify(_cavage_post(names))


def test_verify_cavage__accepts_a_post_with_host() -> None:
    cavage.verify(_cavage_post("(request-target) host date digest"))


def test_verify_cavage__rejects_a_post_whose_signed_host_is_not_the_request_host() -> None:
    method, _, headers, body = _cavage_post("(request-target) host date digest")
    # The same signature replayed to another server: (request-target) is still
    # "post /inbox", the Host is the new server's.
    with pytest.raises(SignatureError):
        cavage.verify((method, OTHER_INBOX, {**headers, "Host": "c.test"}, body))


def _rfc_post(components: str, *, url: str = SHARED_INBOX) -> rfc9421.Request:
    body = rfc9421.BODY
    headers = {"Content-Digest": content_digest_header(body)}
    params = f";created={rfc9421.CREATED}{rfc9421.KEYID}"
    method, url, signed, _ = rfc9421.by_hand(
        components, params, method="POST", url=url, headers=headers
    )
    return method, url, signed, body


# Everything but the host rule relaxed: what a more lenient policy would still enforce.
LENIENT = Rfc9421Policy(required_components=('"@method"',))


@pytest.mark.parametrize("policy", [MASTODON_POLICY, LENIENT], ids=["mastodon", "lenient"])
def test_verify_rfc9421__rejects_a_post_without_target_uri_or_authority(
    policy: Rfc9421Policy,
) -> None:
    request = _rfc_post('"@method" "@path" "content-digest"')

    with pytest.raises(SignatureError, match="target-uri"):
        rfc9421.verify(request, policy=policy)


def test_verify_rfc9421__accepts_authority_instead_of_target_uri_when_allowed() -> None:
    request = _rfc_post('"@method" "@authority" "@path" "content-digest"')

    assert rfc9421.verify(request, policy=LENIENT) == rfc9421.RSA_ID


@pytest.mark.parametrize("covered", ['"@target-uri"', '"@authority"'])
def test_verify_rfc9421__rejects_a_post_signed_for_another_host(covered: str) -> None:
    method, _, headers, body = _rfc_post(f'"@method" {covered} "content-digest"', url=OTHER_INBOX)

    with pytest.raises(SignatureError):
        rfc9421.verify((method, SHARED_INBOX, headers, body), policy=LENIENT)
