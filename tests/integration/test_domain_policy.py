"""Domain policy at every door, between real lab instances: suspend, silence, reject_media,
allow-list mode; inbox, signed fetches, delivery, lookups and the background purge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kizuna.federation.errors import DomainPolicyFetchError, ForbiddenError
from kizuna.services.accounts import ProfileUpdate
from kizuna.storage import domain_policies
from kizuna.storage.models import Account, Delivery, DomainPolicy, Follow, InboxActivity, Post
from tests.fakes.images import png
from tests.integration.lab import Instance, Network
from tests.integration.web import log_in, make_user

NOW = datetime(2026, 11, 30, tzinfo=UTC)


async def _set(
    instance: Instance, domain: str, severity: str, *, reject_media: bool = False
) -> None:
    async with instance.services.db.begin() as session:
        await domain_policies.upsert_policy(
            session, domain, now=NOW, severity=severity, reject_media=reject_media
        )
    await instance.services.policy.reload()


async def _friends(network: Network) -> tuple[Instance, Instance, Account, Account]:
    """alice@a.test and bob@b.test follow each other."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    await log_in(a.browser, await make_user(a.services, "alice"))
    await make_user(b.services, "bob")
    alice = (await a.services.accounts.list_users())[0].account
    bob = (await b.services.accounts.list_users())[0].account
    await a.services.remote_accounts.resolve("@bob@b.test")
    await b.services.remote_accounts.resolve("@alice@a.test")
    await a.services.follows.follow(alice, "bob", "b.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    return a, b, alice, bob


async def _count(instance: Instance, model: type[object], *where: object) -> int:
    async with instance.services.db.begin() as session:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(stmt) or 0)


async def _deliveries(instance: Instance, domain: str) -> list[Delivery]:
    async with instance.services.db.begin() as session:
        stmt = select(Delivery).where(Delivery.domain == domain).order_by(Delivery.id)
        return list((await session.scalars(stmt)).all())


async def test_suspend_refuses_inbox_with_403_stops_delivery_and_purges(network: Network) -> None:
    a, b, alice, bob = await _friends(network)
    await b.services.posts.create(bob, "before the suspension")
    await network.drain()
    assert await _count(a, Post, Post.local.is_(False)) == 1
    await _set(a, "b.test", "suspend")

    # b → a: a's inbox answers 403 before looking at b's key; b stops for good (4xx).
    asked_before = len(a.requests)
    stored = await _count(a, InboxActivity, InboxActivity.actor_uri == bob.uri)
    await b.services.posts.create(bob, "after the suspension")
    await network.drain()
    (refused,) = [d for d in await _deliveries(b, "a.test") if d.state != "delivered"]
    assert (refused.state, refused.last_status) == ("failed", 403)
    assert "suspended" in (refused.last_error or "")
    assert a.requests[asked_before:] == ["/inbox"]  # no key fetch went back to b
    assert await _count(a, InboxActivity, InboxActivity.actor_uri == bob.uri) == stored

    # a → b: never sent, visibly failed.
    asked_of_b = len(b.requests)
    await a.services.posts.create(alice, "not for b")
    await network.drain()
    failed = [d for d in await _deliveries(a, "b.test") if d.state == "failed"]
    assert len(failed) == 1
    assert "suspended" in (failed[0].last_error or "")
    assert b.requests[asked_of_b:] == []

    # Lookups and fetches to b are refused without a request.
    with pytest.raises(DomainPolicyFetchError):
        await a.services.remote_accounts.resolve("@bob@b.test")
    assert b.requests[asked_of_b:] == []

    # The purge removes b's posts and the follows both ways; the account stays as a stub.
    await a.services.domain_purger.purge_all()
    assert await _count(a, Post, Post.local.is_(False)) == 0
    assert await _count(a, Follow) == 0
    assert await _count(a, Account, Account.uri == bob.uri) == 1
    async with a.services.db.begin() as session:
        policy = await session.get(DomainPolicy, "b.test")
        assert policy is not None
        assert policy.purged_at is not None
    # Deliveries queued before the policy are failed by the purge, not left pending.
    assert [d for d in await _deliveries(a, "b.test") if d.state == "pending"] == []


async def test_subdomains_are_covered_and_lifting_restores_federation(network: Network) -> None:
    a, b, _, bob = await _friends(network)
    await _set(a, "test", "suspend")  # covers b.test
    await b.services.posts.create(bob, "refused")
    await network.drain()
    assert [d.last_status for d in await _deliveries(b, "a.test") if d.state == "failed"] == [403]
    async with a.services.db.begin() as session:
        await domain_policies.delete_policy(session, "test")
    await a.services.policy.reload()
    await b.services.posts.create(bob, "accepted again")
    await network.drain()
    async with a.services.db.begin() as session:
        texts = (await session.scalars(select(Post.content_source).where(~Post.local))).all()
        html = (await session.scalars(select(Post.content_html).where(~Post.local))).all()
    assert any("accepted again" in t for t in [*texts, *html])


async def test_signed_fetch_from_a_suspended_server_gets_403(network: Network) -> None:
    a, b, alice, _ = await _friends(network)
    post = await a.services.posts.create(alice, "readable unless suspended")
    await _set(a, "b.test", "suspend")
    # b's client signs every fetch with its instance actor: a refuses it even without
    # authorized fetch on.
    with pytest.raises(ForbiddenError, match=r"refused the request \(403\)"):
        await b.services.federation.get_json(post.uri)
    # Unsigned readers (browsers) still see public posts.
    response = await a.browser.get(f"/@alice/{post.id}")
    assert response.status == 200


async def test_silence_makes_new_follows_wait_for_approval(network: Network) -> None:
    a, b, alice, _ = await _friends(network)
    await _set(a, "b.test", "silence")
    carol = await make_user(b.services, "carol")
    carol_account = next(
        u.account for u in await b.services.accounts.list_users() if u.account.username == "carol"
    )
    await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow(carol_account, "alice", "a.test")
    await network.drain()
    async with a.services.db.begin() as session:
        carol_uri = "https://b.test/users/carol"
        stmt = (
            select(Follow.state)
            .join(Account, Account.id == Follow.account_id)
            .where(Account.uri == carol_uri)
        )
        assert (await session.scalars(stmt)).all() == ["pending"]
    assert carol.username == "carol"
    # The existing follow (made before the silence) is untouched.
    assert await _count(a, Follow, Follow.account_id != alice.id, Follow.state == "accepted") == 1


async def test_reject_media_keeps_no_avatar(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    await make_user(b.services, "bob")
    bob = (await b.services.accounts.list_users())[0].account
    # (A whole PNG: uploads are decoded now, and the bytes that stood here were not one.)
    await b.services.accounts.update_profile(bob.id, ProfileUpdate(avatar=png()))
    await _set(a, "b.test", "noop", reject_media=True)
    remote = await a.services.remote_accounts.resolve("@bob@b.test")
    assert remote.avatar_remote_url is None
    async with a.services.db.begin() as session:
        await domain_policies.delete_policy(session, "b.test")
    await a.services.policy.reload()
    refreshed = await a.services.remote_accounts.resolve("@bob@b.test", refresh=True)
    assert refreshed.avatar_remote_url is not None


async def test_allow_list_mode_federates_only_with_listed_servers(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    c = await network.start("c.test")
    await make_user(a.services, "alice")
    for instance, name in ((b, "bob"), (c, "cleo")):
        await make_user(instance.services, name)
    async with a.services.db.begin() as session:
        await domain_policies.allow(session, "c.test", "", NOW)
        await domain_policies.set_mode(session, "allowlist")
    await a.services.policy.reload()
    for instance in (b, c):
        account = (await instance.services.accounts.list_users())[0].account
        await instance.services.remote_accounts.resolve("@alice@a.test")
        await instance.services.follows.follow(account, "alice", "a.test")
    await network.drain()
    states = {d.domain: (d.state, d.last_status) for d in await _deliveries(b, "a.test")}
    assert states == {"a.test": ("failed", 403)}
    assert [(d.state, d.last_status) for d in await _deliveries(c, "a.test")] == [
        ("delivered", 202)
    ]
    with pytest.raises(DomainPolicyFetchError):
        await a.services.remote_accounts.resolve("@bob@b.test")
    assert (await a.services.remote_accounts.resolve("@cleo@c.test")).domain == "c.test"


async def test_activities_stored_before_a_suspension_are_not_applied(network: Network) -> None:
    a, b, _, bob = await _friends(network)
    await b.services.posts.create(bob, "arrives, then the server is suspended")
    # Deliver b's queue only; a's inbox has the row but has not processed it yet.
    await b.services.delivery.run_single_cycle()
    assert await _count(a, InboxActivity, InboxActivity.processed_at.is_(None)) == 1
    await _set(a, "b.test", "suspend")
    await a.services.processor.run_single_cycle()
    assert await _count(a, Post, Post.local.is_(False)) == 0
    async with a.services.db.begin() as session:
        stmt = select(InboxActivity).where(InboxActivity.activity_type == "Create")
        row = (await session.scalars(stmt)).one()
    assert "suspended" in (row.error or "")
