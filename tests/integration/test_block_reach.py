"""Where a block reaches beyond feeds: follows, threads, community pages, mentions sent to
another server, and account search for suspended accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kizuna.container import Services
from kizuna.errors import NotFoundError, ValidationError
from kizuna.services.communities import NewCommunity
from kizuna.storage import repo
from kizuna.storage.models import Account, Delivery
from tests.integration.lab import Network
from tests.integration.web import make_user


async def _local(services: Services, username: str) -> Account:
    await make_user(services, username)
    async with services.db.begin() as session:
        account = await repo.get_account_by_username(session, username)
    assert account is not None
    return account


async def test_no_follow_across_a_block_either_way(services: Services) -> None:
    alice = await _local(services, "alice")
    bob = await _local(services, "bob")
    await services.blocks.block(alice, bob.id)
    with pytest.raises(ValidationError, match="cannot follow"):
        await services.follows.follow_account(bob, alice.id)
    with pytest.raises(ValidationError, match="cannot follow"):
        await services.follows.follow_account(alice, bob.id)
    async with services.db.begin() as session:
        assert await repo.get_follow(session, bob.id, alice.id) is None


async def test_suspended_accounts_cannot_be_followed_or_found(services: Services) -> None:
    alice = await _local(services, "alice")
    spammer = await _local(services, "spammer")
    async with services.db.begin() as session:
        row = await session.get(Account, spammer.id)
        assert row is not None
        row.suspended_at = datetime.now(UTC)
    with pytest.raises(NotFoundError):
        await services.follows.follow_account(alice, spammer.id)
    async with services.db.begin() as session:
        assert await repo.search_accounts(session, "spam") == []
        assert [a.username for a in await repo.search_accounts(session, "alic")] == ["alice"]


async def test_threads_and_community_pages_hide_blocked_and_muted_authors(
    services: Services,
) -> None:
    alice = await _local(services, "alice")
    bob = await _local(services, "bob")
    carol = await _local(services, "carol")
    root = await services.posts.create(alice, "a question")
    await services.posts.create(bob, "bob answers", in_reply_to=root.id)
    await services.posts.create(carol, "carol answers", in_reply_to=root.id)
    await services.communities.create(alice, NewCommunity(slug="tea", name="Tea"))
    for member in (bob, carol):
        await services.communities.join(member, "tea")
    await services.communities.post(bob, "tea", "bob's thread")
    await services.communities.post(carol, "tea", "carol's thread")

    await services.blocks.block(alice, bob.id)
    await services.blocks.mute(alice, carol.id)
    _, replies = await services.interactions.thread(root, alice)
    assert replies == []
    view = await services.communities.view("tea", alice)
    assert view.page.posts == []
    # Everyone else still sees both.
    dave = await _local(services, "dave")
    _, replies = await services.interactions.thread(root, dave)
    assert sorted(p.content_source for p in replies) == ["bob answers", "carol answers"]
    view = await services.communities.view("tea", dave)
    assert len(view.page.posts) == 2


async def test_a_mention_of_someone_who_blocked_the_author_is_not_sent_to_them(
    network: Network,
) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = await _local(a.services, "alice")
    bob = await _local(b.services, "bob")
    bob_here = await a.services.remote_accounts.resolve("@bob@b.test")
    await a.services.blocks.block(alice, bob_here.id)
    await network.drain()
    await a.services.posts.create(alice, "hello @bob@b.test")
    async with a.services.db.begin() as session:
        creates = (await session.scalars(select(Delivery.domain))).all()
    # Only the Block itself went to b.test, never the post.
    assert list(creates) == ["b.test"]
    assert bob.username == "bob"
