"""Remote lookup across real instances on loopback, and against peers that misbehave."""

from __future__ import annotations

import pytest
from aiohttp import web
from sqlalchemy import func, select

from kizuna.federation.errors import (
    IdentityMismatchError,
    NotJsonError,
    PeerUnavailableError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsafeAddressError,
)
from kizuna.services.accounts import ProfileUpdate
from kizuna.storage.models import Account, Follow
from tests.fakes.peers import FakePeer, jrd, json_reply, person, slow
from tests.integration.lab import Instance, Network
from tests.integration.web import log_in, make_user, submit

WEBFINGER = "/.well-known/webfinger"


async def _remote_count(instance: Instance) -> int:
    async with instance.services.db.begin() as session:
        stmt = select(func.count()).select_from(Account).where(Account.domain != "")
        return int(await session.scalar(stmt) or 0)


async def test_lookup_bob_from_a_then_profile_and_follow_requested(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = await make_user(a.services, "alice")
    bob = await b.services.accounts.create_user("bob", "password-bob")
    await b.services.accounts.update_profile(
        bob.account.id, ProfileUpdate(display_name="ボブ", note="b の住人")
    )
    await log_in(a.browser, alice)

    response = await a.browser.get("/search", params={"q": "@Bob@B.test"}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/@bob@b.test"
    page = await (await a.browser.get("/@bob@b.test")).text()
    assert "ボブ" in page
    assert "<p>b の住人</p>" in page
    assert "This account lives on b.test" in page

    account = await a.services.remote_accounts.resolve("bob@b.test")
    assert account.uri == "https://b.test/users/bob"
    assert account.inbox_url == "https://b.test/users/bob/inbox"
    assert account.shared_inbox_url == "https://b.test/inbox"
    assert account.public_key_pem == bob.account.public_key_pem
    assert account.public_key_id == "https://b.test/users/bob#main-key"

    await submit(a.browser, "/@bob@b.test/follow", {}, form_page="/")
    assert "Requested" in await (await a.browser.get("/@bob@b.test")).text()
    async with a.services.db.begin() as session:
        (state,) = (await session.scalars(select(Follow.state))).all()
    assert state == "pending"  # until b.test's Accept arrives (delivery issue)


async def test_lookup__costs_two_requests_then_cached(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    await b.services.accounts.create_user("carol", "password-carol")
    seen = b.requests
    seen.clear()
    await a.services.remote_accounts.resolve("@bob@b.test")
    # The first account of a new server also asks its NodeInfo (once a week per server):
    # its software decides the dialect of reactions sent there.
    assert seen == [WEBFINGER, "/users/bob", "/.well-known/nodeinfo", "/nodeinfo/2.1"]
    seen.clear()
    await a.services.remote_accounts.resolve("@bob@b.test")
    await a.services.remote_accounts.resolve("https://b.test/users/bob")
    assert seen == []
    refreshed = await a.services.remote_accounts.resolve("@bob@b.test", refresh=True)
    assert refreshed.username == "bob"
    assert seen == [WEBFINGER, "/users/bob"]
    # By URL: the actor first, then WebFinger on its host to confirm the handle.
    seen.clear()
    carol = await a.services.remote_accounts.resolve("https://b.test/users/carol")
    assert carol.acct == "carol@b.test"
    assert seen == ["/users/carol", WEBFINGER]


async def test_lookup__unknown_user_is_a_clear_page(network: Network) -> None:
    a = await network.start("a.test")
    await network.start("b.test")
    await log_in(a.browser, await make_user(a.services, "alice"))
    response = await a.browser.get("/search", params={"q": "@ghost@b.test"})
    assert response.status == 404
    assert "Could not find @ghost@b.test" in await response.text()
    assert await _remote_count(a) == 0


async def _lookup_fails(
    network: Network, peer: FakePeer, query: str, error: type[Exception], **config: object
) -> str:
    a = await network.start("a.test", **config)
    await network.serve(peer.domain, peer.app)
    with pytest.raises(error) as info:
        await a.services.remote_accounts.resolve(query)
    # The UI says the same thing in a page, not a 500, and nothing bogus is stored.
    await log_in(a.browser, await make_user(a.services, "alice"))
    response = await a.browser.get("/search", params={"q": query})
    assert response.status == 404
    assert str(info.value) in await response.text()
    assert await _remote_count(a) == 0
    return str(info.value)


async def test_lookup__peer_that_hangs_times_out(network: Network) -> None:
    peer = FakePeer("slow.test")
    peer.on(WEBFINGER, slow(5))
    message = await _lookup_fails(
        network, peer, "@x@slow.test", PeerUnavailableError, fetch_timeout=0.3
    )
    assert "did not answer in time" in message


async def test_lookup__redirect_loop(network: Network) -> None:
    peer = FakePeer("loop.test")
    peer.on(
        WEBFINGER,
        lambda r: web.Response(status=302, headers={"Location": peer.url(WEBFINGER + "?x=1")}),
    )
    await _lookup_fails(network, peer, "@x@loop.test", TooManyRedirectsError)
    assert len(peer.requests) == 2 * 4  # 1 + 3 redirects, for the service call and the page


async def test_lookup__html_instead_of_json(network: Network) -> None:
    peer = FakePeer("html.test")
    peer.on(WEBFINGER, lambda r: web.Response(text="<html>login</html>", content_type="text/html"))
    message = await _lookup_fails(network, peer, "@x@html.test", NotJsonError)
    assert "text/html" in message


async def test_lookup__oversize_body(network: Network) -> None:
    peer = FakePeer("big.test")
    peer.on(WEBFINGER, lambda r: json_reply({"junk": "x" * (2 * 1024 * 1024)}))
    await _lookup_fails(network, peer, "@x@big.test", ResponseTooLargeError)


async def test_lookup__subject_on_another_domain_that_disagrees(network: Network) -> None:
    b = await network.start("b.test")
    await b.services.accounts.create_user("bob", "password-bob")
    peer = FakePeer("liar.test")
    fake_actor = peer.url("/users/bob")
    # liar.test claims @bob@b.test is its own actor; b.test's WebFinger says otherwise.
    peer.on(WEBFINGER, lambda r: json_reply(jrd("liar.test", "bob", fake_actor, "b.test")))
    peer.on("/users/bob", lambda r: json_reply(person(fake_actor, "bob")))
    await _lookup_fails(network, peer, "@bob@liar.test", IdentityMismatchError)


async def test_lookup__actor_id_on_another_host(network: Network) -> None:
    peer = FakePeer("impostor.test")
    peer.on(WEBFINGER, lambda r: json_reply(jrd("impostor.test", "bob", peer.url("/u/bob"))))
    peer.on("/u/bob", lambda r: json_reply(person("https://b.test/users/bob", "bob")))
    message = await _lookup_fails(network, peer, "@bob@impostor.test", IdentityMismatchError)
    assert "claims to be https://b.test/users/bob" in message


async def test_lookup__preferred_username_mismatch(network: Network) -> None:
    peer = FakePeer("swap.test")
    peer.on(WEBFINGER, lambda r: json_reply(jrd("swap.test", "bob", peer.url("/u/1"))))
    peer.on("/u/1", lambda r: json_reply(person(peer.url("/u/1"), "mallory")))
    await _lookup_fails(network, peer, "@bob@swap.test", IdentityMismatchError)


async def test_lookup__private_addresses_refused_without_a_request(network: Network) -> None:
    peer = FakePeer("target.test")
    listening = await network.serve("target.test", peer.app)
    del network.host_map["target.test"]  # reachable only by its loopback address now
    a = await network.start("a.test", allow_private_addresses=False)
    for query in (
        f"https://127.0.0.1:{listening.port}/users/x",
        f"https://[::1]:{listening.port}/users/x",
        "https://localhost/users/x",
        "@x@localhost",
        f"http://127.0.0.1:{listening.port}/users/x",
    ):
        with pytest.raises(UnsafeAddressError):
            await a.services.remote_accounts.resolve(query)
    assert peer.requests == []
