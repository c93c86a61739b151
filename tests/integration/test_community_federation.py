"""Communities across real instances: a community on a.test, members on a, b and c."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kizuna.errors import PermissionDeniedError
from kizuna.services.communities import CommunitySettings, NewCommunity
from kizuna.storage.models import (
    Account,
    CommunityBan,
    Delivery,
    Follow,
    InboxActivity,
    ModerationLogEntry,
    OutboxActivity,
    Post,
    Reaction,
)
from tests.integration.lab import Instance, Network

GROUP = "https://a.test/c/tokyo"


@dataclass
class Lab:
    a: Instance
    b: Instance
    c: Instance
    alice: Account  # owner, on a
    bob: Account  # member, on b
    carol: Account  # member, on c


async def _user(instance: Instance, name: str) -> Account:
    return (await instance.services.accounts.create_user(name, f"password-{name}")).account


async def _lab(network: Network, *, approval: bool = False, restricted: bool = False) -> Lab:
    a, b, c = [await network.start(d) for d in ("a.test", "b.test", "c.test")]
    alice = await _user(a, "alice")
    await a.services.communities.create(
        alice,
        NewCommunity(
            slug="tokyo",
            name="Tokyo",
            description="Life in Tokyo",
            approval_required=approval,
            posting_restricted=restricted,
        ),
    )
    return Lab(a, b, c, alice, await _user(b, "bob"), await _user(c, "carol"))


async def _join(network: Network, instance: Instance, account: Account) -> None:
    await instance.services.communities.find("!tokyo@a.test")
    await instance.services.communities.join(account, "tokyo@a.test")
    await network.drain()


async def _posts(instance: Instance) -> dict[str, Post]:
    async with instance.services.db.begin() as session:
        return {p.uri: p for p in (await session.scalars(select(Post))).all()}


async def _group_id(instance: Instance) -> int:
    async with instance.services.db.begin() as session:
        group_id = await session.scalar(select(Account.id).where(Account.uri == GROUP))
    assert group_id is not None
    return group_id


async def _follow_state(instance: Instance, member_uri: str) -> str | None:
    async with instance.services.db.begin() as session:
        member = select(Account.id).where(Account.uri == member_uri).scalar_subquery()
        group = select(Account.id).where(Account.uri == GROUP).scalar_subquery()
        return await session.scalar(
            select(Follow.state).where(
                Follow.account_id == member, Follow.target_account_id == group
            )
        )


async def _errors(instance: Instance) -> list[str]:
    async with instance.services.db.begin() as session:
        rows = await session.scalars(select(InboxActivity).where(InboxActivity.error.is_not(None)))
        return [f"{r.activity_type}: {r.error}" for r in rows]


async def test_remote_member_posts_and_every_member_server_gets_it(network: Network) -> None:
    lab = await _lab(network)
    await _join(network, lab.b, lab.bob)
    await _join(network, lab.c, lab.carol)
    assert await _follow_state(lab.a, "https://b.test/users/bob") == "accepted"
    assert await _follow_state(lab.b, "https://b.test/users/bob") == "accepted"

    post = await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "桜が咲いた 🌸")
    await network.drain()

    for instance in (lab.a, lab.b, lab.c):
        copy = (await _posts(instance))[post.uri]
        assert copy.community_id == await _group_id(instance), instance.domain
        assert "桜が咲いた" in copy.content_html
    # c got it only through the group's Announce, and fetched it from b (its origin).
    assert any(p.startswith("/users/bob/statuses/") for p in lab.b.requests)
    assert await _errors(lab.a) == []
    assert await _errors(lab.c) == []
    page = await (await lab.c.browser.get("/c/tokyo@a.test")).text()
    assert "桜が咲いた" in page

    # A post by the owner on a reaches both remote members' servers through the group.
    own = await lab.a.services.communities.post(lab.alice, "tokyo", "welcome, everyone")
    await network.drain()
    assert own.uri in await _posts(lab.b)
    assert own.uri in await _posts(lab.c)


async def test_reply_like_edit_and_delete_in_a_thread_are_relayed(network: Network) -> None:
    lab = await _lab(network)
    await _join(network, lab.b, lab.bob)
    await _join(network, lab.c, lab.carol)
    thread = await lab.a.services.communities.post(lab.alice, "tokyo", "best ramen?")
    await network.drain()
    on_c = (await _posts(lab.c))[thread.uri]
    reply = await lab.c.services.posts.create(lab.carol, "Fuunji!", in_reply_to=on_c.id)
    await network.drain()
    on_b = await _posts(lab.b)
    assert on_b[reply.uri].community_id == await _group_id(lab.b)
    assert on_b[reply.uri].in_reply_to_id == on_b[thread.uri].id

    await lab.b.services.interactions.like(lab.bob, on_b[reply.uri].id)
    await network.drain()
    async with lab.c.services.db.begin() as session:
        likes = (await session.scalars(select(Reaction))).all()
    assert [r.post_id for r in likes] == [(await _posts(lab.c))[reply.uri].id]

    await lab.c.services.posts.edit(reply.id, lab.carol, "Fuunji, Shinjuku!")
    await network.drain()
    assert "Shinjuku" in (await _posts(lab.b))[reply.uri].content_html

    await lab.c.services.posts.delete(reply.id, lab.carol)
    await network.drain()
    assert reply.uri not in await _posts(lab.a)
    assert reply.uri not in await _posts(lab.b)


async def test_removal_and_ban_federate(network: Network) -> None:
    lab = await _lab(network)
    await _join(network, lab.b, lab.bob)
    await _join(network, lab.c, lab.carol)
    post = await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "buy cheap watches")
    await network.drain()
    group_id = await _group_id(lab.a)
    on_a = (await _posts(lab.a))[post.uri]

    await lab.a.services.moderation.remove_post(group_id, lab.alice, on_a.id, reason="spam")
    await lab.a.services.moderation.ban(group_id, lab.alice, on_a.account_id, reason="spam")
    await network.drain()

    assert post.uri not in await _posts(lab.a)
    assert post.uri not in await _posts(lab.c)
    assert (await _posts(lab.b))[post.uri].community_id is None  # bob keeps his own words
    for instance in (lab.a, lab.b):
        async with instance.services.db.begin() as session:
            bans = (await session.scalars(select(CommunityBan))).all()
        assert [b.reason for b in bans] == ["spam"], instance.domain
    assert await _follow_state(lab.a, "https://b.test/users/bob") is None
    assert await _follow_state(lab.b, "https://b.test/users/bob") is None
    async with lab.a.services.db.begin() as session:
        log = (await session.scalars(select(ModerationLogEntry))).all()
    assert sorted(e.action for e in log) == ["ban", "remove_post"]

    # Banned: no posting from b, no rejoining, and a post sent anyway is refused on a.
    with pytest.raises(PermissionDeniedError):
        await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "again")
    await lab.b.services.follows.follow_account(lab.bob, await _group_id(lab.b))
    await network.drain()
    assert await _follow_state(lab.a, "https://b.test/users/bob") is None
    assert await _follow_state(lab.b, "https://b.test/users/bob") is None  # rejected

    await lab.a.services.moderation.unban(group_id, lab.alice, on_a.account_id)
    await network.drain()
    async with lab.b.services.db.begin() as session:
        assert (await session.scalars(select(CommunityBan))).all() == []


async def test_approval_required_join(network: Network) -> None:
    lab = await _lab(network, approval=True)
    await _join(network, lab.b, lab.bob)
    assert await _follow_state(lab.a, "https://b.test/users/bob") == "pending"
    assert await _follow_state(lab.b, "https://b.test/users/bob") == "pending"
    with pytest.raises(PermissionDeniedError):
        await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "let me in")

    async with lab.a.services.db.begin() as session:
        bob_on_a = await session.scalar(
            select(Account.id).where(Account.uri == "https://b.test/users/bob")
        )
    assert bob_on_a is not None
    await lab.a.services.moderation.decide(await _group_id(lab.a), lab.alice, bob_on_a, accept=True)
    await network.drain()
    assert await _follow_state(lab.b, "https://b.test/users/bob") == "accepted"
    post = await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "thanks!")
    await network.drain()
    assert (await _posts(lab.a))[post.uri].community_id == await _group_id(lab.a)


async def test_pin_federates_and_restricted_posting(network: Network) -> None:
    lab = await _lab(network, restricted=True)
    await _join(network, lab.b, lab.bob)
    with pytest.raises(PermissionDeniedError):
        await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "may I start a thread?")
    rules = await lab.a.services.communities.post(lab.alice, "tokyo", "rules: be kind")
    await network.drain()
    await lab.a.services.moderation.pin(await _group_id(lab.a), lab.alice, rules.id, pinned=True)
    await network.drain()
    assert (await _posts(lab.b))[rules.uri].pinned_at is not None
    view = await lab.b.services.communities.view("tokyo@a.test", lab.bob)
    assert [p.uri for p in view.pinned] == [rules.uri]
    assert view.posting_restricted
    # Replies are still open to members.
    on_b = (await _posts(lab.b))[rules.uri]
    reply = await lab.b.services.posts.create(lab.bob, "agreed", in_reply_to=on_b.id)
    await network.drain()
    assert (await _posts(lab.a))[reply.uri].community_id == await _group_id(lab.a)


async def test_group_announces_once_per_server_and_bare_for_mastodon(network: Network) -> None:
    lab = await _lab(network)
    await _join(network, lab.b, lab.bob)
    dave = await _user(lab.b, "dave")
    await _join(network, lab.b, dave)
    await lab.a.services.communities.post(lab.alice, "tokyo", "one server, one delivery")
    async with lab.a.services.db.begin() as session:
        rows = (
            await session.execute(
                select(OutboxActivity.raw, Delivery.inbox_url)
                .join(Delivery, Delivery.outbox_activity_id == OutboxActivity.id)
                .where(OutboxActivity.activity_type == "Announce")
            )
        ).all()
    kinds = sorted(
        raw["object"]["type"] if isinstance(raw["object"], dict) else "bare" for raw, _ in rows
    )
    assert kinds == ["Create", "bare"]
    assert {inbox for _, inbox in rows} == {"https://b.test/inbox"}
    await network.drain()
    assert await _errors(lab.b) == []


async def test_settings_change_reaches_members_as_update_group(network: Network) -> None:
    lab = await _lab(network)
    await _join(network, lab.b, lab.bob)
    group_id = await _group_id(lab.a)
    with pytest.raises(PermissionDeniedError):
        await lab.a.services.communities.update(
            group_id, await _user(lab.a, "mallory"), CommunitySettings(name="Mine now")
        )
    await lab.a.services.communities.update(
        group_id,
        lab.alice,
        CommunitySettings(
            name="Tokyo 東京", description="Food and trains", posting_restricted=True
        ),
    )
    await network.drain()
    view = await lab.b.services.communities.view("tokyo@a.test", lab.bob)
    assert view.group.display_name == "Tokyo 東京"
    assert "Food and trains" in view.group.note_html
    assert view.posting_restricted
    with pytest.raises(PermissionDeniedError):
        await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "a new thread")
    async with lab.a.services.db.begin() as session:
        log = (await session.scalars(select(ModerationLogEntry))).all()
    assert [e.action for e in log] == ["edit"]
