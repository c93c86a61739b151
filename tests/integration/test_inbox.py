"""The secure inbox between real instances, and against a Mastodon-shaped signer."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from kizuna.federation.client import RequestSigner
from kizuna.federation.signatures import ed25519_multikey, load_private_key_pem, sign_rfc9421
from kizuna.storage.models import InboxActivity, PeerDomain
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network

INBOX = "/users/bob/inbox"


async def _stored(instance: Instance) -> list[InboxActivity]:
    async with instance.services.db.begin() as session:
        return list((await session.scalars(select(InboxActivity))).all())


async def _deliver(
    b: Instance, peer: FakeMastodon, doc: dict[str, Any], path: str = INBOX, **sign: Any
) -> tuple[int, str]:
    body = json.dumps(doc).encode()
    headers = peer.sign(f"https://b.test{path}", body, **sign)
    response = await b.browser.post(path, data=body, headers=headers)
    return response.status, await response.text()


@pytest.fixture
async def b_and_mastodon(network: Network) -> tuple[Instance, FakeMastodon]:
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    peer = FakeMastodon("m.test")
    await network.serve("m.test", peer.app)
    return b, peer


async def test_follow_from_a_then_stored_once_on_b(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = await a.services.accounts.create_user("alice", "password-alice")
    await b.services.accounts.create_user("bob", "password-bob")
    assert alice.account.private_key_pem is not None
    signer = RequestSigner(
        key_id="https://a.test/users/alice#main-key",
        private_key=load_private_key_pem(alice.account.private_key_pem),
    )
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://a.test/users/alice#follows/1",
        "type": "Follow",
        "actor": "https://a.test/users/alice",
        "object": "https://b.test/users/bob",
    }
    body = json.dumps(follow).encode()
    result = await a.services.federation.post_signed("https://b.test/users/bob/inbox", body, signer)
    assert result.status == 202, result.body
    assert result.scheme == "cavage"
    assert not result.retried
    # b fetched alice's key from a, with a GET signed by b's instance actor.
    assert "/users/alice" in a.requests
    again = await a.services.federation.post_signed("https://b.test/users/bob/inbox", body, signer)
    assert again.status == 202
    assert '"duplicate"' in again.body
    (row,) = await _stored(b)
    assert row.activity_type == "Follow"
    assert row.actor_uri == "https://a.test/users/alice"
    assert row.processed_at is None
    async with b.services.db.begin() as session:
        bob_id = (await session.scalars(select(InboxActivity.recipient_id))).one()
    assert bob_id is not None


async def test_authorized_fetch__unsigned_refused_signed_served(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    bob = await b.services.accounts.create_user("bob", "password-bob")
    post = await b.services.posts.create(bob.account, "only for signed readers")
    await b.services.settings.set_authorized_fetch(True)
    ap = {"Accept": "application/activity+json"}
    for path in ("/users/bob/outbox", f"/users/bob/statuses/{post.id}", "/users/bob/followers"):
        response = await b.browser.get(path, headers=ap)
        assert response.status == 401, path
        assert "signed requests" in (await response.json())["error"]
    # Actor documents stay readable so that keys can be found.
    assert (await b.browser.get("/users/bob", headers=ap)).status == 200
    fetched = await a.services.federation.get_json(f"https://b.test/users/bob/statuses/{post.id}")
    assert fetched.doc["content"] == "<p>only for signed readers</p>"
    account = await a.services.remote_accounts.resolve("@bob@b.test")
    assert account.uri == "https://b.test/users/bob"


async def test_mastodon_signed_follow_accepted(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    status, text = await _deliver(b, peer, peer.follow("https://b.test/users/bob"))
    assert status == 202, text
    assert len(await _stored(b)) == 1
    # The shared inbox takes it too (a different activity id).
    status, _ = await _deliver(b, peer, peer.follow("https://b.test/users/bob", 2), path="/inbox")
    assert status == 202
    assert peer.actor_fetches == 1  # the key is cached after the first request


def _bad_requests(peer: FakeMastodon) -> list[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    follow = peer.follow("https://b.test/users/bob")
    now = datetime.now(UTC)
    other_host = {**follow, "id": "https://elsewhere.test/1"}
    return [
        ("wrong digest", 401, follow, {"digest_body": b"{}"}),
        ("date 2 hours old", 401, follow, {"date": now - timedelta(hours=2)}),
        ("date 2 hours ahead", 401, follow, {"date": now + timedelta(hours=2)}),
        ("unknown activity type", 400, {**follow, "type": "Frobnicate"}, {}),
        ("no actor", 400, {k: v for k, v in follow.items() if k != "actor"}, {}),
        ("id on another host", 403, other_host, {}),
        ("actor is someone else", 403, {**follow, "actor": "https://m.test/users/eve"}, {}),
    ]


async def test_bad_signed_requests_refused_and_nothing_stored(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    now = b.services.keyring.monotonic()
    b.services.keyring.monotonic = lambda: now  # all within REFRESH_AFTER of the fetch
    for reason, status, doc, sign in _bad_requests(peer):
        got, text = await _deliver(b, peer, doc, **sign)
        assert got == status, f"{reason}: {got} {text}"
        assert "error" in json.loads(text), reason
    assert await _stored(b) == []
    # However many bad requests, the key was fetched at most once (no amplification).
    assert peer.actor_fetches == 1


async def test_unsigned_malformed_and_oversize_refused(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    body = json.dumps(peer.follow("https://b.test/users/bob")).encode()
    ap = {"Content-Type": "application/activity+json"}
    assert (await b.browser.post(INBOX, data=body, headers=ap)).status == 401
    assert (await b.browser.post(INBOX, data=b"{nope", headers=ap)).status == 400
    assert (await b.browser.post(INBOX, data=b"[1, 2]", headers=ap)).status == 400
    text = {"Content-Type": "text/plain"}
    assert (await b.browser.post(INBOX, data=body, headers=text)).status == 415
    huge = io.BytesIO(b'{"x": "' + b"a" * (1024 * 1024) + b'"}')
    assert (await b.browser.post(INBOX, data=huge, headers=ap)).status == 413
    status, _ = await _deliver(b, peer, peer.follow("x"), path="/users/nobody/inbox")
    assert status == 404
    assert await _stored(b) == []
    assert peer.actor_fetches <= 1


async def test_key_rotation_then_refetched_once(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    keyring = b.services.keyring
    start = keyring.monotonic()
    keyring.monotonic = lambda: start
    assert (await _deliver(b, peer, peer.follow("https://b.test/users/bob", 1)))[0] == 202
    peer.rotate_key()
    # Within REFRESH_AFTER of a fetch the key is not fetched again (no amplification)…
    assert (await _deliver(b, peer, peer.follow("https://b.test/users/bob", 2)))[0] == 401
    assert peer.actor_fetches == 1
    # …later, b's cached key fails, b refetches the actor once and the new key verifies
    # (tests/integration/test_key_rotation.py: "later" is a few seconds, not a minute).
    keyring.monotonic = lambda: start + 61
    assert (await _deliver(b, peer, peer.follow("https://b.test/users/bob", 3)))[0] == 202
    assert (await _deliver(b, peer, peer.follow("https://b.test/users/bob", 4)))[0] == 202
    assert peer.actor_fetches == 2
    assert len(await _stored(b)) == 3


async def test_hanging_key_fetch_does_not_stall_others(network: Network) -> None:
    b = await network.start("b.test", fetch_timeout=2.0)
    await b.services.accounts.create_user("bob", "password-bob")
    good = FakeMastodon("m.test")
    await network.serve("m.test", good.app)
    stuck = FakeMastodon("hang.test", actor_delay=10)
    await network.serve("hang.test", stuck.app)

    hanging = asyncio.ensure_future(_deliver(b, stuck, stuck.follow("https://b.test/users/bob")))
    await asyncio.sleep(0.05)
    status, _ = await _deliver(b, good, good.follow("https://b.test/users/bob"))
    assert status == 202
    assert not hanging.done()  # still waiting on hang.test while m.test was served
    status, text = await hanging
    assert status == 401
    assert "could not fetch key" in text


async def test_double_knock__rfc9421_only_peer_then_remembered(network: Network) -> None:
    a = await network.start("a.test")
    alice = await a.services.accounts.create_user("alice", "password-alice")
    assert alice.account.private_key_pem is not None
    seen: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        scheme = "rfc9421" if "Signature-Input" in request.headers else "cavage"
        seen.append(scheme)
        return web.Response(status=202 if scheme == "rfc9421" else 401)

    peer = web.Application()
    peer.router.add_post("/inbox", inbox)
    await network.serve("new.test", peer)
    signer = RequestSigner(
        key_id="https://a.test/users/alice#main-key",
        private_key=load_private_key_pem(alice.account.private_key_pem),
    )
    first = await a.services.federation.post_signed("https://new.test/inbox", b"{}", signer)
    assert (first.status, first.scheme, first.retried) == (202, "rfc9421", True)
    second = await a.services.federation.post_signed("https://new.test/inbox", b"{}", signer)
    assert (second.status, second.retried) == (202, False)
    assert seen == ["cavage", "rfc9421", "rfc9421"]
    async with a.services.db.begin() as session:
        peer_row = await session.get(PeerDomain, "new.test")
        assert peer_row is not None
        assert peer_row.signature_scheme == "rfc9421"
        count = await session.scalar(select(func.count()).select_from(PeerDomain))
    assert count == 1


async def test_ed25519_key_from_assertion_method_accepted(network: Network) -> None:
    """FEP-521a: a peer signs with an Ed25519 Multikey listed in `assertionMethod`."""
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    peer = FakeMastodon("ed.test")
    ed_key = Ed25519PrivateKey.generate()
    ed_key_id = f"{peer.actor_id}#ed25519-key"
    actor = peer.actor()
    actor["assertionMethod"] = [
        {
            "id": ed_key_id,
            "type": "Multikey",
            "controller": peer.actor_id,
            "publicKeyMultibase": ed25519_multikey(ed_key.public_key()),
        }
    ]
    peer.actor = lambda: actor  # type: ignore[method-assign]
    await network.serve("ed.test", peer.app)
    body = json.dumps(peer.follow("https://b.test/users/bob")).encode()
    headers = {"Content-Type": "application/activity+json", "Host": "b.test"}
    headers.update(
        sign_rfc9421(
            method="POST",
            url=f"https://b.test{INBOX}",
            headers=headers,
            body=body,
            key_id=ed_key_id,
            private_key=ed_key,
            now=datetime.now(UTC),
        )
    )
    response = await b.browser.post(INBOX, data=body, headers=headers)
    assert response.status == 202, await response.text()
    (row,) = await _stored(b)
    assert row.signer_key_id == ed_key_id
    # The same request with a byte of the body changed is refused.
    tampered = body.replace(b"Follow", b"Fellow")
    response = await b.browser.post(INBOX, data=tampered, headers=headers)
    assert response.status == 401


async def test_burst_of_activities_stored_once_each(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    """Concurrent deliveries share one commit; repeats inside a batch still count once."""
    b, peer = b_and_mastodon
    docs = [peer.follow("https://b.test/users/bob", n) for n in range(40)]
    results = await asyncio.gather(*(_deliver(b, peer, doc) for doc in docs + docs[:10]))
    assert all(status == 202 for status, _ in results), [r for r in results if r[0] != 202]
    kinds = [json.loads(text)["status"] for _, text in results]
    assert kinds.count("accepted") == 40
    assert kinds.count("duplicate") == 10
    assert len(await _stored(b)) == 40


async def test_signature_for_another_host_is_refused(
    b_and_mastodon: tuple[Instance, FakeMastodon],
) -> None:
    b, peer = b_and_mastodon
    body = json.dumps(peer.follow("https://b.test/users/bob")).encode()
    headers = peer.sign("https://evil.test/users/bob/inbox", body)  # valid, but for evil.test
    response = await b.browser.post(INBOX, data=body, headers=headers)
    assert response.status == 401
    assert "addressed to 'evil.test'" in (await response.json())["error"]
    assert await _stored(b) == []


@pytest.mark.parametrize("key_id", ["https://[oops/users/eve#main-key", "https://a\u2100b/key"])
async def test_unparseable_key_id__refused_as_a_bad_signature(
    b_and_mastodon: tuple[Instance, FakeMastodon], key_id: str
) -> None:
    """The keyId's host is read before anything is verified (the rate limit's key): a keyId
    that is no URL at all is no host, not a server error."""
    b, peer = b_and_mastodon
    status, text = await _deliver(b, peer, peer.follow("https://b.test/users/bob"), key_id=key_id)
    assert status == 401, text
    assert await _stored(b) == []
    assert peer.actor_fetches == 0
