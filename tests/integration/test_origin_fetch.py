"""Objects are trusted only as their origin serves them; missing parents are fetched."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from kizuna.storage.models import InboxActivity, Post
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.receive import deliver


async def _setup(network: Network) -> tuple[Instance, Instance, FakeMastodon]:
    a = await network.start("a.test")
    b = await network.start("b.test")
    await a.services.accounts.create_user("alice", "password-alice")
    await b.services.accounts.create_user("bob", "password-bob")
    peer = FakeMastodon("m.test")
    await network.serve("m.test", peer.app)
    return a, b, peer


async def _remote_posts(a: Instance) -> dict[str, Post]:
    async with a.services.db.begin() as session:
        posts = (await session.scalars(select(Post).where(Post.local.is_(False)))).all()
    return {p.uri: p for p in posts}


async def test_relayed_copy_is_replaced_by_the_origin(network: Network) -> None:
    a, b, peer = await _setup(network)
    bob = (await b.services.accounts.list_users())[0].account
    real = await b.services.posts.create(bob, "the real words")
    forged = {
        "id": real.uri,
        "type": "Note",
        "attributedTo": bob.uri,
        "content": "<p>words bob never wrote</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    await deliver(
        a,
        peer,
        {
            "id": "https://m.test/relay/1",
            "type": "Create",
            "actor": peer.actor_id,
            "object": forged,
        },
    )
    await network.drain()
    stored = (await _remote_posts(a))[real.uri]
    assert stored.content_html == "<p>the real words</p>"
    async with a.services.db.begin() as session:
        author = await session.get(type(bob), stored.account_id)
    assert author is not None
    assert author.uri == bob.uri


async def test_object_its_origin_does_not_have_is_refused(network: Network) -> None:
    a, _, peer = await _setup(network)
    ghost = {
        "id": "https://b.test/users/bob/statuses/404404",
        "type": "Note",
        "attributedTo": "https://b.test/users/bob",
        "content": "<p>never existed</p>",
    }
    await deliver(
        a,
        peer,
        {"id": "https://m.test/relay/2", "type": "Create", "actor": peer.actor_id, "object": ghost},
    )
    await network.drain()
    assert await _remote_posts(a) == {}
    async with a.services.db.begin() as session:
        row = (await session.scalars(select(InboxActivity))).one()
    assert row.error is not None
    assert "not found" in row.error


async def test_reply_to_unknown_parent_fetches_the_parent(network: Network) -> None:
    a, b, _ = await _setup(network)
    await b.services.remote_accounts.resolve("@alice@a.test")
    bob = (await b.services.accounts.list_users())[0].account
    parent = await b.services.posts.create(bob, "a thought nobody on a.test saw")
    reply = await b.services.posts.create(
        bob, "@alice@a.test what do you think?", in_reply_to=parent.id
    )
    await network.drain()
    posts = await _remote_posts(a)
    assert posts[reply.uri].in_reply_to_id == posts[parent.uri].id
    page = await (await a.browser.get(f"/@bob@b.test/{posts[reply.uri].id}")).text()
    assert page.index("a thought nobody") < page.index("what do you think?")


async def test_boost_of_unknown_post_fetches_it_from_its_origin(network: Network) -> None:
    a, b, peer = await _setup(network)
    bob = (await b.services.accounts.list_users())[0].account
    original = await b.services.posts.create(bob, "worth boosting")
    await deliver(
        a,
        peer,
        {
            "id": "https://m.test/users/mallory/statuses/1/activity",
            "type": "Announce",
            "actor": peer.actor_id,
            "object": original.uri,
            "published": datetime.now(UTC).isoformat(),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    )
    await network.drain()
    posts = await _remote_posts(a)
    assert posts[original.uri].content_html == "<p>worth boosting</p>"
    boost = posts["https://m.test/users/mallory/statuses/1/activity"]
    assert boost.reblog_of_id == posts[original.uri].id
