"""Rate limits on real instances: log-in, sign-up, posting, and the inbox per sender domain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from kizuna.federation.signatures import load_private_key_pem, sign_cavage
from kizuna.keys import generate_rsa_keypair
from kizuna.storage.models import Account, InboxActivity, InboxRejection, Post, User
from tests.integration.lab import Instance, Network
from tests.integration.web import Client, csrf_token, log_in, make_user, submit


async def _login(client: Client, username: str, password: str, **headers: str) -> ClientResponse:
    token = await csrf_token(client, "/login")
    data = {"username": username, "password": password, "next": "/", "csrf_token": token}
    return await client.post("/login", data=data, headers=headers, allow_redirects=False)


def _retry_after(response: ClientResponse) -> int:
    value = int(response.headers["Retry-After"])
    assert value >= 1
    return value


async def test_login_flood__429_with_retry_after_and_no_session(network: Network) -> None:
    a = await network.start("a.test", rate_login=3)
    alice = await make_user(a.services, "alice")

    first = await _login(a.browser, "alice", alice.password)  # a success counts too
    assert first.status == 303
    a.browser.session.cookie_jar.clear_domain("127.0.0.1")
    failed = [await _login(a.browser, "alice", "wrong-password") for _ in range(2)]
    assert [r.status for r in failed] == [422, 422]  # wrong password, not yet limited
    limited = await _login(a.browser, "alice", alice.password)  # right password, too late

    assert limited.status == 429
    assert _retry_after(limited) <= 100  # one attempt per 300 s / 3
    assert limited.content_type == "text/html"
    assert "Too many log-in attempts" in await limited.text()
    assert "kizuna_session" not in {c.key for c in a.browser.session.cookie_jar}


async def test_login__trusted_proxy_counts_the_forwarded_address(network: Network) -> None:
    a = await network.start("a.test", rate_login=1, trusted_proxy=True)
    await make_user(a.services, "alice")

    one = await _login(
        a.browser, "alice", "wrong", **{"X-Forwarded-For": "198.51.100.9, 203.0.113.5"}
    )
    other = await _login(a.browser, "alice", "wrong", **{"X-Forwarded-For": "203.0.113.6"})
    again = await _login(
        a.browser, "alice", "wrong", **{"X-Forwarded-For": "198.51.100.10, 203.0.113.5"}
    )

    assert one.status == 422
    assert other.status == 422  # another client behind the proxy has its own allowance
    assert again.status == 429  # the last hop is what the proxy saw; earlier hops are claims


async def test_login__without_trusted_proxy_forwarded_for_is_ignored(network: Network) -> None:
    a = await network.start("a.test", rate_login=1)
    await make_user(a.services, "alice")

    one = await _login(a.browser, "alice", "wrong", **{"X-Forwarded-For": "203.0.113.5"})
    two = await _login(a.browser, "alice", "wrong", **{"X-Forwarded-For": "203.0.113.6"})

    assert one.status == 422
    assert two.status == 429


async def test_signup_flood__third_attempt_refused_and_creates_nothing(network: Network) -> None:
    a = await network.start("a.test", rate_signup=2)
    await a.services.settings.set_registrations("open")

    async def sign_up(name: str) -> ClientResponse:
        fields = {"username": name, "password": "long-password-1", "password_confirm": ""}
        fields["password_confirm"] = fields["password"]
        return await submit(a.browser, "/signup", fields, form_page="/signup")

    statuses = [(await sign_up(name)).status for name in ("one", "two")]
    a.browser.session.cookie_jar.clear_domain("127.0.0.1")
    limited = await sign_up("three")

    assert statuses == [303, 303]
    assert limited.status == 429
    _retry_after(limited)
    async with a.services.db.begin() as session:
        names = set((await session.scalars(select(Account.username).join(User))).all())
    assert "three" not in names
    assert {"one", "two"} <= names


async def test_posting_flood__per_user_limit(network: Network) -> None:
    a = await network.start("a.test", rate_post=2)
    await log_in(a.browser, await make_user(a.services, "alice"))
    other: Client = TestClient(a.server)  # a second browser on the same server
    await other.start_server()
    try:
        await log_in(other, await make_user(a.services, "bob"))
        results = []
        for n in range(3):
            response = await submit(a.browser, "/posts", {"content": f"post {n}"}, form_page="/")
            results.append(response.status)
        bob = await submit(other, "/posts", {"content": "bob's"}, form_page="/")
    finally:
        await other.session.close()

    assert results[:2] == [303, 303]
    assert results[2] == 429
    assert bob.status == 303  # a limit per user, not per server
    async with a.services.db.begin() as session:
        contents = set((await session.scalars(select(Post.content_source))).all())
    assert contents == {"post 0", "post 1", "bob's"}


# -- the inbox ---------------------------------------------------------------------------


def _follow(actor: str, n: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}#follows/{n}",
        "type": "Follow",
        "actor": actor,
        "object": "https://b.test/users/bob",
    }


async def _signed_post(
    to: Instance, sender: Account, doc: dict[str, Any], *, private_pem: str | None = None
) -> ClientResponse:
    """POST `doc` to bob's inbox on `to`, signed the Mastodon way by `sender`'s key (or by
    `private_pem` under sender's keyId: a forged signature)."""
    body = json.dumps(doc).encode()
    pem = private_pem or sender.private_key_pem
    assert pem is not None
    assert sender.public_key_id is not None
    headers = {"Content-Type": "application/activity+json"}
    headers |= sign_cavage(
        method="POST",
        url=f"https://{to.domain}/users/bob/inbox",
        headers=headers,
        body=body,
        key_id=sender.public_key_id,
        private_key=load_private_key_pem(pem),
        now=datetime.now(UTC),
    )
    return await to.browser.post("/users/bob/inbox", data=body, headers=headers)


async def test_inbox_flood__limited_per_sender_domain_before_verifying(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test", rate_inbox=2)
    c = await network.start("c.test")
    await b.services.accounts.create_user("bob", "password-bob")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    carol = (await c.services.accounts.create_user("carol", "password-carol")).account

    accepted = [(await _signed_post(b, alice, _follow(alice.uri, n))).status for n in range(2)]
    limited = await _signed_post(b, alice, _follow(alice.uri, 2))
    # A forged signature under a.test's keyId is refused as limited too, before any
    # signature check (a 401 would mean the key was looked at).
    forged = await _signed_post(
        b, alice, _follow(alice.uri, 3), private_pem=generate_rsa_keypair().private_pem
    )
    from_c = await _signed_post(b, carol, _follow(carol.uri, 0))

    assert accepted == [202, 202]
    assert limited.status == 429
    assert limited.content_type == "application/json"
    assert "Too many requests" in (await limited.json())["error"]
    assert _retry_after(limited) <= 30  # one request per 60 s / 2
    assert forged.status == 429
    assert from_c.status == 202  # the limit is per sending server
    async with b.services.db.begin() as session:
        stored = await session.scalar(select(func.count()).select_from(InboxActivity))
    assert stored == 3

    await b.services.inbox_accounting.flush()
    async with b.services.db.begin() as session:
        rows = (
            await session.execute(
                select(InboxRejection.domain, InboxRejection.reason, InboxRejection.count)
            )
        ).all()
    assert [tuple(r) for r in rows] == [("a.test", "rate_limited", 2)]


async def test_inbox_limit_zero__never_limits(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test", rate_inbox=0)
    await b.services.accounts.create_user("bob", "password-bob")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account

    statuses = {(await _signed_post(b, alice, _follow(alice.uri, n))).status for n in range(12)}

    assert statuses == {202}
