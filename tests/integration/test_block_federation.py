"""Blocks across servers: alice@a.test and bob@b.test follow each other, then one blocks the
other. Block / Undo(Block) travel through the delivery queues between two real instances."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from kizuna.errors import ValidationError
from kizuna.storage import repo
from kizuna.storage.models import Account, AccountBlock, Delivery, Follow, OutboxActivity, Post
from tests.integration.lab import Instance, Network
from tests.integration.web import log_in, make_user, submit

ALICE, BOB = "https://a.test/users/alice", "https://b.test/users/bob"


async def _local(instance: Instance, username: str) -> Account:
    async with instance.services.db.begin() as session:
        account = await repo.get_account_by_username(session, username)
    assert account is not None
    return account


async def _by_uri(instance: Instance, uri: str) -> Account:
    async with instance.services.db.begin() as session:
        account = await repo.get_account_by_uri(session, uri)
    assert account is not None
    return account


async def _follows(instance: Instance) -> set[tuple[str, str, str]]:
    """(follower uri, target uri, state) of every follow the instance holds."""
    async with instance.services.db.begin() as session:
        rows = (await session.scalars(select(Follow))).all()
        accounts = {a.id: a.uri for a in (await session.scalars(select(Account))).all()}
    return {(accounts[f.account_id], accounts[f.target_account_id], f.state) for f in rows}


async def _blocks(instance: Instance) -> set[tuple[str, str]]:
    async with instance.services.db.begin() as session:
        rows = (await session.scalars(select(AccountBlock))).all()
        accounts = {a.id: a.uri for a in (await session.scalars(select(Account))).all()}
    return {(accounts[b.account_id], accounts[b.target_account_id]) for b in rows}


async def _sent(instance: Instance, kind: str) -> list[OutboxActivity]:
    async with instance.services.db.begin() as session:
        stmt = select(OutboxActivity).where(OutboxActivity.activity_type == kind)
        return list((await session.scalars(stmt)).all())


async def _deliveries_to(instance: Instance, kind: str, domain: str) -> int:
    async with instance.services.db.begin() as session:
        stmt = (
            select(func.count())
            .select_from(Delivery)
            .join(OutboxActivity, OutboxActivity.id == Delivery.outbox_activity_id)
            .where(OutboxActivity.activity_type == kind, Delivery.domain == domain)
        )
        return int(await session.scalar(stmt) or 0)


async def _friends(network: Network) -> tuple[Instance, Instance]:
    """alice@a.test and bob@b.test follow each other; both are logged in on their server."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    await log_in(a.browser, await make_user(a.services, "alice"))
    await log_in(b.browser, await make_user(b.services, "bob"))
    await a.services.remote_accounts.resolve("@bob@b.test")
    await b.services.remote_accounts.resolve("@alice@a.test")
    await a.services.follows.follow(await _local(a, "alice"), "bob", "b.test")
    await b.services.follows.follow(await _local(b, "bob"), "alice", "a.test")
    await network.drain()
    both = {(ALICE, BOB, "accepted"), (BOB, ALICE, "accepted")}
    assert await _follows(a) == both
    assert await _follows(b) == both
    return a, b


async def test_block_remote_then_block_sent_follows_gone_both_sides_then_undo(
    network: Network,
) -> None:
    a, b = await _friends(network)
    response = await submit(a.browser, "/@bob@b.test/block", {}, form_page="/@bob@b.test")
    assert response.status == 303
    (block,) = await _sent(a, "Block")
    assert block.raw["actor"] == ALICE
    assert block.raw["object"] == BOB
    assert block.raw["id"].startswith(f"{ALICE}#blocks/")
    assert await _deliveries_to(a, "Block", "b.test") == 1
    assert await _follows(a) == set()

    await network.drain()
    assert await _follows(b) == set()
    assert await _blocks(b) == {(ALICE, BOB)}  # b keeps the remote block: a's alice blocks bob

    bob = await _local(b, "bob")
    await b.services.posts.create(bob, "bob after being blocked")
    assert await _deliveries_to(b, "Create", "a.test") == 0
    await network.drain()
    assert "bob after being blocked" not in await (await a.browser.get("/")).text()

    # b knows of the block, so bob cannot even ask (Mastodon's FollowService refuses too)…
    follows_sent = len(await _sent(b, "Follow"))
    with pytest.raises(ValidationError, match="cannot follow"):
        await b.services.follows.follow(bob, "alice", "a.test")
    assert len(await _sent(b, "Follow")) == follows_sent
    # …and from a server that ignored the Block, a.test rejects the Follow and b drops it.
    async with b.services.db.begin() as session:
        await session.execute(delete(AccountBlock))
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    assert await _follows(a) == set()
    assert await _follows(b) == set()
    # The first Reject ended bob's follow when alice blocked him; this one refuses the new one.
    _first, again = sorted(await _sent(a, "Reject"), key=lambda r: r.id)
    assert again.raw["object"]["actor"] == BOB

    response = await submit(a.browser, "/@bob@b.test/unblock", {}, form_page="/@bob@b.test")
    assert response.status == 303
    undos = await _sent(a, "Undo")
    assert sorted(u.raw["object"]["type"] for u in undos) == ["Block", "Follow"]
    (undo,) = [u for u in undos if u.raw["object"]["type"] == "Block"]
    assert undo.raw["object"]["id"] == block.raw["id"]
    assert undo.raw["id"] == f"{block.raw['id']}/undo"
    await network.drain()
    assert await _blocks(a) == set()
    assert await _blocks(b) == set()


async def test_inbound_block_removes_follows_and_stops_delivery_then_undo(
    network: Network,
) -> None:
    a, b = await _friends(network)
    alice = await _local(a, "alice")
    await a.services.posts.create(alice, "alice before")
    await network.drain()

    response = await submit(b.browser, "/@alice@a.test/block", {}, form_page="/@alice@a.test")
    assert response.status == 303
    await network.drain()
    assert await _follows(a) == set()
    assert await _blocks(a) == {(BOB, ALICE)}  # stored with the remote blocker as account_id

    before = await _deliveries_to(a, "Create", "b.test")
    await a.services.posts.create(alice, "alice after, to her followers")
    assert await _deliveries_to(a, "Create", "b.test") == before
    # A mention of the blocker is dropped from what alice publishes (the audience).
    mention = await a.services.posts.create(alice, "hello @bob@b.test")
    async with a.services.db.begin() as session:
        post = await repo.get_post(session, mention.id)
        assert post is not None
        (view,) = await a.services.documents.note_views(session, [post])
    assert view.mentions == ()

    # Undo(Block) from b lifts it on a.
    response = await submit(b.browser, "/@alice@a.test/unblock", {}, form_page="/@alice@a.test")
    assert response.status == 303
    await network.drain()
    assert await _blocks(a) == set()
    assert await _blocks(b) == set()


async def test_remote_reply_from_blocked_account_does_not_notify(network: Network) -> None:
    a, b = await _friends(network)
    alice = await _local(a, "alice")
    post = await a.services.posts.create(alice, "alice asks something")
    await network.drain()
    await a.services.blocks.block(alice, (await _by_uri(a, BOB)).id)
    await network.drain()

    bob = await _local(b, "bob")
    async with b.services.db.begin() as session:
        copy = await repo.get_post_by_uri(session, f"{ALICE}/statuses/{post.id}")
    assert copy is not None
    # b knows of the block: the reply is not sent to alice's server at all.
    await b.services.posts.create(bob, "@alice@a.test first answer", in_reply_to=copy.id)
    await network.drain()
    async with a.services.db.begin() as session:
        replies = (await session.scalars(select(Post).where(Post.in_reply_to_id == post.id))).all()
    assert replies == []
    # A server that ignored the Block sends it anyway: stored, but alice hears nothing.
    async with b.services.db.begin() as session:
        await session.execute(delete(AccountBlock))
    await b.services.posts.create(bob, "@alice@a.test answering", in_reply_to=copy.id)
    await network.drain()
    async with a.services.db.begin() as session:
        replies = (await session.scalars(select(Post).where(Post.in_reply_to_id == post.id))).all()
    assert [r.content_html for r in replies] != []  # it arrived
    assert await a.services.interactions.notifications(alice) == []
