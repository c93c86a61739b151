"""Instance moderation of accounts: warn, limit, suspend (local and remote, federated as
Mastodon does), the purge after the grace period, roles and what moderators may not do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kizuna.container import Services
from kizuna.errors import ValidationError
from kizuna.storage import repo
from kizuna.storage.models import Account, AuditLogEntry, Delivery, Follow, Post, User
from tests.integration.conftest import ClientFactory
from tests.integration.lab import Instance, Network
from tests.integration.web import Client, log_in, make_user, submit

AP = {"Accept": "application/activity+json"}


async def _user(services: Services, username: str) -> User:
    (user,) = [u for u in await services.accounts.list_users() if u.account.username == username]
    return user


async def _by_uri(instance: Instance, uri: str) -> Account:
    async with instance.services.db.begin() as session:
        account = await repo.get_account_by_uri(session, uri)
    assert account is not None
    return account


async def _audit(services: Services) -> list[str]:
    async with services.db.begin() as session:
        rows = (await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))).all()
    return [r.action for r in rows]


async def _count(services: Services, model: type[object], *where: object) -> int:
    async with services.db.begin() as session:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(stmt) or 0)


async def _browser(
    make_client: ClientFactory, services: Services, name: str, **kw: object
) -> Client:
    client = await make_client()
    await log_in(client, await make_user(services, name, **kw))
    return client


# --- one instance ------------------------------------------------------------------------------


async def test_warning_is_shown_to_its_owner(
    make_client: ClientFactory, services: Services
) -> None:
    bob_browser = await _browser(make_client, services, "bob")
    mod = await _browser(make_client, services, "carol", role="moderator")
    bob = (await _user(services, "bob")).account
    page = f"/admin/accounts/{bob.id}"
    sent = await submit(mod, f"{page}/warn", {"text": "please stop the ads"}, form_page=page)
    assert sent.status == 303, await sent.text()

    notifications = await (await bob_browser.get("/notifications")).text()
    assert 'href="/warnings"' in notifications
    warnings = await (await bob_browser.get("/warnings")).text()
    assert "please stop the ads" in warnings
    assert "Warning" in warnings
    assert await _audit(services) == ["account.warn"]
    detail = await (await mod.get(page)).text()
    assert "please stop the ads" in detail


async def test_limit_then_lift(make_client: ClientFactory, services: Services) -> None:
    await make_user(services, "bob")
    mod = await _browser(make_client, services, "carol", role="moderator")
    bob = (await _user(services, "bob")).account
    page = f"/admin/accounts/{bob.id}"
    assert (await submit(mod, f"{page}/limit", {"text": "spam"}, form_page=page)).status == 303
    assert (await _user(services, "bob")).account.silenced_at is not None
    listed = await (await mod.get("/admin/accounts?state=limited")).text()
    assert f'href="/admin/accounts/{bob.id}"' in listed
    again = await submit(mod, f"{page}/limit", {}, form_page=page)
    assert again.status == 422
    assert "limited already" in await again.text()
    assert (await submit(mod, f"{page}/unlimit", {}, form_page=page)).status == 303
    assert (await _user(services, "bob")).account.silenced_at is None
    assert await _audit(services) == ["account.silence", "account.unsilence"]


async def test_roles_and_what_moderators_may_not_do(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await _browser(make_client, services, "dana", role="admin")
    mod = await _browser(make_client, services, "carol", role="moderator")
    await make_user(services, "bob")
    await make_user(services, "eve", approved=False, reason="I like cats")
    bob, dana, eve, carol = [
        (await _user(services, n)).account for n in ("bob", "dana", "eve", "carol")
    ]

    # Admin-only pages and the role form: 403 with a clear text for a moderator.
    for path in ("/admin", "/admin/audit", "/admin/domains"):
        response = await mod.get(path)
        assert response.status == 403, path
    role_page = f"/admin/accounts/{bob.id}"
    refused = await submit(mod, f"{role_page}/role", {"role": "moderator"}, form_page=role_page)
    assert refused.status == 403
    assert "administrators only" in await refused.text()
    # Moderators do not act on administrators.
    admin_page = f"/admin/accounts/{dana.id}"
    refused = await submit(mod, f"{admin_page}/suspend", {}, form_page=admin_page)
    assert refused.status == 403
    assert (await _user(services, "dana")).account.suspended_at is None
    # …but approve sign-ups.
    pending = await (await mod.get("/admin/accounts?state=pending")).text()
    assert "@eve" in pending
    assert "@bob" not in pending
    eve_page = f"/admin/accounts/{eve.id}"
    assert "I like cats" in await (await mod.get(eve_page)).text()
    assert (await submit(mod, f"{eve_page}/approve", {}, form_page=eve_page)).status == 303
    assert (await _user(services, "eve")).approved

    # The admin sets roles, never their own, and one admin always remains.
    ok = await submit(admin, f"{role_page}/role", {"role": "moderator"}, form_page=role_page)
    assert ok.status == 303
    assert (await _user(services, "bob")).role == "moderator"
    own = await submit(admin, f"{admin_page}/role", {"role": "user"}, form_page=admin_page)
    assert own.status == 403
    assert (await _user(services, "dana")).role == "admin"
    bad = await submit(admin, f"{role_page}/role", {"role": "owner"}, form_page=role_page)
    assert bad.status == 422
    carol_page = f"/admin/accounts/{carol.id}"
    await submit(admin, f"{carol_page}/role", {"role": "admin"}, form_page=carol_page)
    dana_user = await _user(services, "dana")
    carol_user = await _user(services, "carol")
    await services.account_moderation.set_role(carol_user, dana.id, "user")  # two admins: fine
    assert (await _user(services, "dana")).role == "user"
    assert dana_user.is_admin  # the stale object; the stored role changed
    assert await _audit(services) == [
        "account.approve",
        "account.role",
        "account.role",
        "account.role",
    ]


# --- across servers ----------------------------------------------------------------------------


async def _pair(network: Network) -> tuple[Instance, Instance, Account, Account]:
    """alice@a.test and bob@b.test follow each other; a.test has an admin."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice_person = await make_user(a.services, "alice")
    await log_in(a.browser, alice_person)
    await make_user(a.services, "dana", role="admin")
    await make_user(b.services, "bob")
    alice = (await _user(a.services, "alice")).account
    bob = (await _user(b.services, "bob")).account
    await a.services.remote_accounts.resolve("@bob@b.test")
    await b.services.remote_accounts.resolve("@alice@a.test")
    await a.services.follows.follow(alice, "bob", "b.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    return a, b, alice, bob


async def test_suspend_local_account_then_unsuspend(network: Network) -> None:
    a, b, alice, bob = await _pair(network)
    await a.services.posts.create(alice, "hello from alice")
    await network.drain()
    dana = await _user(a.services, "dana")
    await a.services.account_moderation.act(dana, alice.id, "suspend", text="abuse")
    await network.drain()

    # Her session is gone, and she cannot log in again.
    assert (await a.browser.get("/notifications", allow_redirects=False)).status == 303
    login = await submit(
        a.browser, "/login", {"username": "alice", "password": "pw-alice-long", "next": "/"}
    )
    assert login.status == 403
    assert "suspended" in await login.text()
    # Her pages are gone; her actor stays, flagged and blank (Mastodon's ActorSerializer).
    assert (await a.browser.get("/@alice")).status == 404
    actor = await (await a.browser.get("/users/alice", headers=AP)).json()
    assert actor["suspended"] is True
    assert actor["name"] == "alice"
    assert actor["summary"] == ""
    assert "suspended" in str(actor["@context"])
    assert (await a.browser.get("/users/alice/outbox", headers=AP)).status == 404

    # b.test (a follower's server) got the Update and hides her too.
    remote = await _by_uri(b, alice.uri)
    assert remote.suspended_at is not None
    assert (await b.browser.get("/@alice@a.test")).status == 404
    assert await b.services.timelines.home(bob) is not None
    home = await b.services.timelines.home(bob)
    assert [p for p in home.posts if p.account_id == remote.id] == []
    # Moderators on b cannot lift a's decision by accident: only a's Update does.
    await a.services.account_moderation.lift(dana, alice.id, "suspend")
    await network.drain()
    assert (await _by_uri(b, alice.uri)).suspended_at is None
    actor = await (await a.browser.get("/users/alice", headers=AP)).json()
    assert "suspended" not in actor
    assert (await a.browser.get("/@alice")).status == 200
    assert await _audit(a.services) == ["account.suspend", "account.unsuspend"]
    assert await _audit(b.services) == ["account.suspend", "account.unsuspend"]


async def test_suspended_account_is_purged_after_the_grace_period(network: Network) -> None:
    a, b, alice, _ = await _pair(network)
    await a.services.posts.create(alice, "soon gone")
    await network.drain()
    dana = await _user(a.services, "dana")
    await a.services.account_moderation.act(dana, alice.id, "suspend")
    await network.drain()
    moderation = a.services.account_moderation
    start = datetime.now(UTC)
    moderation.clock = lambda: start + timedelta(days=29)
    assert await moderation.run_once() == 0  # still within the grace period: reversible
    moderation.clock = lambda: start + timedelta(days=31)
    assert await moderation.run_once() == 1
    await network.drain()

    purged = await _by_uri(a, alice.uri)
    assert purged.deleted_at is not None
    assert purged.display_name == ""
    assert await _count(a.services, Post, Post.account_id == alice.id) == 0
    assert await _count(a.services, User, User.account_id == alice.id) == 0
    assert await _count(a.services, Follow) == 0
    assert "account.purge" in await _audit(a.services)
    # Delete(actor) reached b, which drops her posts and follows.
    gone = await _by_uri(b, alice.uri)
    assert gone.deleted_at is not None
    assert await _count(b.services, Post, Post.account_id == gone.id) == 0
    assert (await a.browser.get("/users/alice", headers=AP)).status == 404
    refused = await submit(
        a.browser, "/login", {"username": "alice", "password": "pw-alice-long", "next": "/"}
    )
    assert refused.status == 422  # the user is gone; the name stays taken
    with pytest.raises(ValidationError, match="deleted"):
        await moderation.lift(dana, alice.id, "suspend")


async def test_suspend_remote_account_removes_follows_both_ways(network: Network) -> None:
    a, b, alice, bob = await _pair(network)
    remote_bob = await _by_uri(a, bob.uri)
    dana = await _user(a.services, "dana")
    await a.services.account_moderation.act(dana, remote_bob.id, "suspend", text="spam server")
    await network.drain()

    assert await _count(a.services, Follow) == 0
    # b heard the Reject of its follow (Mastodon's reject_remote_follows!).
    assert await _count(b.services, Follow, Follow.account_id == bob.id) == 0
    # Nothing goes to him any more: not even a mention.
    sent_to_b = await _count(a.services, Delivery, Delivery.domain == "b.test")
    await a.services.posts.create(alice, "hi @bob@b.test")
    await network.drain()
    assert await _count(a.services, Delivery, Delivery.domain == "b.test") == sent_to_b
    assert (await a.browser.get("/@bob@b.test")).status == 404
    # What he sends is ignored while suspended.
    await b.services.posts.create(bob, "still here")
    await network.drain()
    assert await _count(a.services, Post, Post.account_id == remote_bob.id) == 0
    # Unsuspend clears the flag; follows are not restored (as Mastodon).
    await a.services.account_moderation.lift(dana, remote_bob.id, "suspend")
    assert (await _by_uri(a, bob.uri)).suspended_at is None
    assert await _audit(a.services) == ["account.suspend", "account.unsuspend"]
