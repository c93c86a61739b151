"""A follow notifies its target the same way whether the follower is local or remote."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kizuna.container import Services
from kizuna.services.accounts import ProfileUpdate
from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Account, Notification
from tests.integration.conftest import ClientFactory
from tests.integration.lab import Network
from tests.integration.web import log_in, make_user, submit


async def _notifications(services: Services, username: str) -> list[tuple[str, str]]:
    """(kind, follower's acct) of every notification `username` has, oldest first."""
    async with services.db.begin() as session:
        target = select(Account.id).where(Account.username == username, Account.domain == "")
        rows = await session.execute(
            select(Notification.kind, Account.username, Account.domain)
            .join(Account, Account.id == Notification.from_account_id)
            .where(Notification.account_id == target.scalar_subquery())
            .order_by(Notification.id)
        )
        return [(kind, f"{name}@{domain}" if domain else name) for kind, name, domain in rows]


async def test_local_follow_then_target_notified_once(
    make_client: ClientFactory, services: Services
) -> None:
    fan, star = await make_client(), await make_client()
    await log_in(fan, await make_user(services, "fan"))
    await log_in(star, await make_user(services, "star"))
    assert (await submit(fan, "/@star/follow", {}, form_page="/")).status == 303
    assert (await submit(fan, "/@star/follow", {}, form_page="/")).status == 303  # again
    assert await _notifications(services, "star") == [("follow", "fan")]
    page = await (await star.get("/notifications")).text()
    assert "followed you" in page
    assert "@fan" in page


async def test_local_follow_of_locked_account_then_request_notified(
    make_client: ClientFactory, services: Services
) -> None:
    fan, star = await make_client(), await make_client()
    await log_in(fan, await make_user(services, "fan"))
    await log_in(star, await make_user(services, "star"))
    save = {"display_name": "", "note": "", "locked": "on"}
    assert (await submit(star, "/settings/profile", save, form_page="/")).status == 303
    await submit(fan, "/@star/follow", {}, form_page="/")
    assert await _notifications(services, "star") == [("follow_request", "fan")]
    assert "asked to follow you" in await (await star.get("/notifications")).text()


@pytest.mark.parametrize("locked", [False, True])
async def test_remote_and_local_follow__same_notification(network: Network, locked: bool) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = await a.services.accounts.create_user("alice", "password-alice")
    bob = await b.services.accounts.create_user("bob", "password-bob")
    carol = await b.services.accounts.create_user("carol", "password-carol")
    await b.services.accounts.update_profile(bob.account.id, ProfileUpdate(locked=locked))
    await a.services.remote_accounts.resolve("@bob@b.test")
    await a.services.follows.follow(alice.account, "bob", "b.test")
    await network.drain()
    await b.services.follows.follow(carol.account, "bob")
    kind = "follow_request" if locked else "follow"
    assert await _notifications(b.services, "bob") == [(kind, "alice@a.test"), (kind, "carol")]


async def test_joining_a_community__no_notification_nobody_reads(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    owner = await b.services.accounts.create_user("owner", "password-owner")
    group = await b.services.communities.create(owner.account, NewCommunity(slug="tea", name="Tea"))
    member = await b.services.accounts.create_user("member", "password-member")
    remote = await a.services.accounts.create_user("alice", "password-alice")
    await b.services.communities.join(member.account, "tea")
    await a.services.communities.find("!tea@b.test")
    await a.services.communities.join(remote.account, "tea@b.test")
    await network.drain()
    assert len(await b.services.communities.members("tea")) == 3  # owner, member, alice
    async with b.services.db.begin() as session:
        told = await session.scalars(
            select(Notification).where(Notification.account_id == group.id)
        )
        assert list(told) == []
