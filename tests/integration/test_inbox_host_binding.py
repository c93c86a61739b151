"""The real inbox refuses a signature that does not bind our host, or binds another one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kizuna.federation.signatures import load_private_key_pem, sign_cavage, sign_rfc9421
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.test_inbox import _stored, b_and_mastodon

__all__ = ["b_and_mastodon"]  # the fixture, shared with test_inbox

SHARED = "/inbox"


async def _post(b: Instance, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    response = await b.browser.post(SHARED, data=body, headers=headers)
    return response.status, await response.text()


async def test_post_signed_without_host__refused_401(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    body = json.dumps(peer.follow("https://b.test/users/bob")).encode()
    # Valid for any server's shared inbox: "(request-target) date digest" names no host.
    headers = peer.sign(f"https://b.test{SHARED}", body, signed=("Date", "Digest"))

    status, text = await _post(b, body, headers)

    assert status == 401, text
    assert json.loads(text)["error"] == "host not signed"
    assert await _stored(b) == []
    # The same peer signing as Mastodon does is accepted.
    status, text = await _post(b, body, peer.sign(f"https://b.test{SHARED}", body))
    assert status == 202, text
    assert len(await _stored(b)) == 1


async def test_post_signed_for_another_host__refused_401(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    body = json.dumps(peer.follow("https://b.test/users/bob")).encode()
    for_c = peer.sign(f"https://c.test{SHARED}", body)  # what c.test received, replayed to b

    as_signed = await _post(b, body, for_c)
    with_our_host = await _post(b, body, {**for_c, "Host": "b.test"})

    assert as_signed[0] == 401, as_signed
    assert "addressed to 'c.test'" in json.loads(as_signed[1])["error"]
    assert with_our_host[0] == 401, with_our_host
    assert "error" in json.loads(with_our_host[1])
    assert await _stored(b) == []


async def test_rfc9421_post_signed_for_another_host__refused_401(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = await a.services.accounts.create_user("alice", "password-alice")
    await b.services.accounts.create_user("bob", "password-bob")
    assert alice.account.private_key_pem is not None
    key = load_private_key_pem(alice.account.private_key_pem)
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://a.test/users/alice#follows/1",
        "type": "Follow",
        "actor": "https://a.test/users/alice",
        "object": "https://b.test/users/bob",
    }
    body = json.dumps(follow).encode()

    def signed(url: str) -> dict[str, str]:
        headers = {"Content-Type": "application/activity+json", "Host": "b.test"}
        return headers | sign_rfc9421(
            method="POST",
            url=url,
            headers=headers,
            body=body,
            key_id="https://a.test/users/alice#main-key",
            private_key=key,
            now=datetime.now(UTC),
        )

    refused = await _post(b, body, signed(f"https://c.test{SHARED}"))
    accepted = await _post(b, body, signed(f"https://b.test{SHARED}"))

    assert refused[0] == 401, refused
    assert "error" in json.loads(refused[1])
    assert accepted[0] == 202, accepted


async def test_signed_get_for_another_host__refused_under_authorized_fetch(
    network: Network,
) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    await b.services.settings.set_authorized_fetch(True)
    await a.services.accounts.instance_actor()  # a's key, fetched by b to verify
    signer = a.services.federation.signer
    assert signer is not None
    path = "/users/bob/outbox"

    async def get(url: str, host: str) -> int:
        headers = {"Accept": "application/activity+json", "Host": host}
        headers |= sign_cavage(
            method="GET",
            url=url,
            headers=headers,
            body=None,
            key_id=signer.key_id,
            private_key=signer.private_key,
            now=datetime.now(UTC),
        )
        headers["Host"] = "b.test"  # replayed to b whatever it was signed for
        return (await b.browser.get(path, headers=headers)).status

    assert await get(f"https://c.test{path}", "c.test") == 401
    assert await get(f"https://b.test{path}", "b.test") == 200
