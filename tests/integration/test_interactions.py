"""Replies, likes, boosts and notifications, locally and between two instances."""

from __future__ import annotations

from sqlalchemy import func, select

from kizuna.storage.models import Post, Reaction
from tests.integration.lab import Instance, Network
from tests.integration.web import log_in, make_user, submit


async def _pair(network: Network) -> tuple[Instance, Instance]:
    """alice on a.test follows bob on b.test, accepted."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    await log_in(a.browser, await make_user(a.services, "alice"))
    await log_in(b.browser, await make_user(b.services, "bob"))
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    return a, b


async def _bob_post(network: Network, a: Instance, b: Instance, text: str) -> tuple[Post, Post]:
    bob = (await b.services.accounts.list_users())[0].account
    original = await b.services.posts.create(bob, text)
    await network.drain()
    async with a.services.db.begin() as session:
        copy = (await session.scalars(select(Post).where(Post.uri == original.uri))).one()
    return original, copy


async def test_reply_from_a_then_threaded_and_notified_on_b(network: Network) -> None:
    a, b = await _pair(network)
    original, copy = await _bob_post(network, a, b, "今日はいい天気")
    page = await (await a.browser.get(f"/@bob@b.test/{copy.id}")).text()
    assert "@bob@b.test " in page  # the reply box starts with a mention of the author
    response = await submit(
        a.browser,
        "/posts",
        {
            "content": "@bob@b.test ほんとに！",
            "in_reply_to": str(copy.id),
            "visibility": "unlisted",
        },
        form_page="/",
    )
    assert response.status == 303
    await network.drain()
    async with b.services.db.begin() as session:
        reply = (
            await session.scalars(select(Post).where(Post.in_reply_to_id == original.id))
        ).one()
    assert not reply.local
    assert reply.in_reply_to_uri == original.uri
    thread = await (await b.browser.get(f"/@bob/{original.id}")).text()
    assert thread.index("今日はいい天気") < thread.index("ほんとに！")
    notes = await (await b.browser.get("/notifications")).text()
    assert "replied to you" in notes
    assert "followed you" in notes


async def test_like_then_unlike_across_instances(network: Network) -> None:
    a, b = await _pair(network)
    original, copy = await _bob_post(network, a, b, "like me")
    assert (await submit(a.browser, f"/posts/{copy.id}/like", {}, form_page="/")).status == 303
    await network.drain()

    async def likes() -> int:
        async with b.services.db.begin() as session:
            stmt = select(func.count()).select_from(Reaction).where(Reaction.post_id == original.id)
            return int(await session.scalar(stmt) or 0)

    assert await likes() == 1
    assert "liked your post" in await (await b.browser.get("/notifications")).text()
    card = await (await b.browser.get(f"/@bob/{original.id}")).text()
    assert 'Like <span class="count">1</span>' in card
    await submit(a.browser, f"/posts/{copy.id}/unlike", {}, form_page="/")
    await network.drain()
    assert await likes() == 0


async def test_boost_then_unboost_across_instances(network: Network) -> None:
    a, b = await _pair(network)
    original, copy = await _bob_post(network, a, b, "boost me")
    await submit(a.browser, f"/posts/{copy.id}/boost", {}, form_page="/")
    await network.drain()
    async with b.services.db.begin() as session:
        boosts = (await session.scalars(select(Post).where(Post.reblog_of_id == original.id))).all()
    assert len(boosts) == 1
    assert "boosted your post" in await (await b.browser.get("/notifications")).text()
    home = await (await a.browser.get("/")).text()
    assert "boosted" in home
    assert home.count("boost me") == 1  # the post and alice's boost of it show once
    await submit(a.browser, f"/posts/{copy.id}/unboost", {}, form_page="/")
    await network.drain()
    async with b.services.db.begin() as session:
        count = await session.scalar(
            select(func.count()).select_from(Post).where(Post.reblog_of_id == original.id)
        )
    assert count == 0


async def test_local_boost_shows_in_followers_home_once(network: Network) -> None:
    a = await network.start("a.test")
    await log_in(a.browser, await make_user(a.services, "alice"))
    users = {}
    for name in ("bob", "carol"):
        users[name] = (await a.services.accounts.create_user(name, f"password-{name}")).account
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "carol")
    post = await a.services.posts.create(users["bob"], "carol will boost this")
    await a.services.interactions.boost(users["carol"], post.id)
    await a.services.interactions.boost(users["carol"], post.id)  # twice: still one boost
    home = await (await a.browser.get("/")).text()
    assert home.count("carol will boost this") == 1
    assert "boosted" in home
    assert 'Boost <span class="count">1</span>' in home


async def test_delivery_status_shown_to_the_author(network: Network) -> None:
    _, b = await _pair(network)
    bob = (await b.services.accounts.list_users())[0].account
    post = await b.services.posts.create(bob, "how far did this go?")
    pending = await (await b.browser.get(f"/@bob/{post.id}")).text()
    assert "Delivered to 0 of 1 server" in pending
    await network.drain()
    done = await (await b.browser.get(f"/@bob/{post.id}")).text()
    assert "Delivered to 1 of 1 server" in done
