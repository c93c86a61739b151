"""Two real instances federating over loopback: follow, accept, post, delete, unfollow."""

from __future__ import annotations

from sqlalchemy import func, select

from kizuna.services.accounts import ProfileUpdate
from kizuna.storage.models import Account, Delivery, Follow, OutboxActivity, Post
from tests.integration.lab import Instance, Network
from tests.integration.web import log_in, make_user, submit


async def _follow_state(instance: Instance, follower_uri: str, target_uri: str) -> str | None:
    async with instance.services.db.begin() as session:
        follower = select(Account.id).where(Account.uri == follower_uri).scalar_subquery()
        target = select(Account.id).where(Account.uri == target_uri).scalar_subquery()
        stmt = select(Follow.state).where(
            Follow.account_id == follower, Follow.target_account_id == target
        )
        return (await session.scalars(stmt)).first()


async def _posts(instance: Instance) -> list[Post]:
    async with instance.services.db.begin() as session:
        return list((await session.scalars(select(Post).order_by(Post.id))).all())


async def _lab(network: Network) -> tuple[Instance, Instance]:
    a = await network.start("a.test")
    b = await network.start("b.test")
    await log_in(a.browser, await make_user(a.services, "alice"))
    await log_in(b.browser, await make_user(b.services, "bob"))
    return a, b


ALICE, BOB = "https://a.test/users/alice", "https://b.test/users/bob"


async def test_follow_then_accept_then_post_reaches_home_feed(network: Network) -> None:
    a, b = await _lab(network)
    await a.browser.get("/search", params={"q": "@bob@b.test"})
    await submit(a.browser, "/@bob@b.test/follow", {}, form_page="/")
    assert await _follow_state(a, ALICE, BOB) == "pending"
    await network.drain()
    assert await _follow_state(b, ALICE, BOB) == "accepted"
    assert await _follow_state(a, ALICE, BOB) == "accepted"

    await submit(b.browser, "/posts", {"content": "b から 👋 #lab @alice@a.test"}, form_page="/")
    await network.drain()
    (post,) = [p for p in await _posts(a) if not p.local]
    assert post.uri.startswith("https://b.test/users/bob/statuses/")
    assert post.visibility == "public"
    home = await (await a.browser.get("/")).text()
    assert "b から 👋" in home
    tag_page = await (await a.browser.get("/tags/lab")).text()
    assert "b から 👋" in tag_page


async def test_followers_on_one_server_get_one_delivery(network: Network) -> None:
    a, b = await _lab(network)
    carol = await a.services.accounts.create_user("carol", "password-carol")
    alice = (await a.services.accounts.list_users())[0].account
    for follower in (alice, carol.account):
        await a.services.remote_accounts.resolve("@bob@b.test")
        await a.services.follows.follow(follower, "bob", "b.test")
    await network.drain()
    bob = next(u for u in await b.services.accounts.list_users() if u.account.username == "bob")
    await b.services.posts.create(bob.account, "one delivery for two followers")
    async with b.services.db.begin() as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.state == "pending"))).all()
    assert [(r.inbox_url, r.domain) for r in rows] == [("https://a.test/inbox", "a.test")]
    await network.drain()
    assert "one delivery for two followers" in await (await a.browser.get("/")).text()


async def test_delete_then_gone_on_the_other_side(network: Network) -> None:
    a, b = await _lab(network)
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    bob = (await b.services.accounts.list_users())[0].account
    post = await b.services.posts.create(bob, "soon gone")
    await network.drain()
    assert len([p for p in await _posts(a) if not p.local]) == 1
    await b.services.posts.delete(post.id, bob)
    await network.drain()
    assert [p for p in await _posts(a) if not p.local] == []


async def test_unfollow_then_no_more_deliveries(network: Network) -> None:
    a, b = await _lab(network)
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    await a.services.follows.unfollow(alice, "bob", "b.test")
    await network.drain()
    assert await _follow_state(b, ALICE, BOB) is None
    bob = (await b.services.accounts.list_users())[0].account
    await b.services.posts.create(bob, "nobody on a.test hears this")
    async with b.services.db.begin() as session:
        creates = (
            select(func.count())
            .select_from(Delivery)
            .join(OutboxActivity, OutboxActivity.id == Delivery.outbox_activity_id)
            .where(OutboxActivity.activity_type == "Create")
        )
        assert await session.scalar(creates) == 0


async def test_manual_approval_then_accept_from_the_ui(network: Network) -> None:
    a, b = await _lab(network)
    bob = (await b.services.accounts.list_users())[0].account
    await b.services.accounts.update_profile(bob.id, ProfileUpdate(locked=True))
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    assert await _follow_state(b, ALICE, BOB) == "pending"
    assert await _follow_state(a, ALICE, BOB) == "pending"
    requests = await (await b.browser.get("/follow_requests")).text()
    assert "@alice@a.test" in requests
    remote_alice = await b.services.remote_accounts.resolve("@alice@a.test")
    response = await submit(
        b.browser, f"/follow_requests/{remote_alice.id}/accept", {}, form_page="/"
    )
    assert response.status == 303
    await network.drain()
    assert await _follow_state(a, ALICE, BOB) == "accepted"


async def test_reject_then_follow_gone_on_both_sides(network: Network) -> None:
    a, b = await _lab(network)
    bob = (await b.services.accounts.list_users())[0].account
    await b.services.accounts.update_profile(bob.id, ProfileUpdate(locked=True))
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    remote_alice = await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.decide(bob, remote_alice.id, accept=False)
    await network.drain()
    assert await _follow_state(b, ALICE, BOB) is None
    assert await _follow_state(a, ALICE, BOB) is None


async def test_edit_then_updated_on_the_other_side(network: Network) -> None:
    a, b = await _lab(network)
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    bob = (await b.services.accounts.list_users())[0].account
    post = await b.services.posts.create(bob, "typo hree")
    await network.drain()
    response = await submit(
        b.browser, f"/posts/{post.id}/edit", {"content": "typo here #fixed"}, form_page="/"
    )
    assert response.status == 303
    await network.drain()
    (copy,) = [p for p in await _posts(a) if not p.local]
    assert copy.content_html.startswith("<p>typo here")
    assert copy.updated_at is not None
    assert "(edited)" in await (await a.browser.get("/")).text()


async def test_profile_update_reaches_followers_servers(network: Network) -> None:
    a, b = await _lab(network)
    await a.services.remote_accounts.resolve("@bob@b.test")
    alice = (await a.services.accounts.list_users())[0].account
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    bob = (await b.services.accounts.list_users())[0].account
    await b.services.accounts.update_profile(
        bob.id, ProfileUpdate(display_name="ボブ改", note="新しい自己紹介")
    )
    await network.drain()
    async with a.services.db.begin() as session:
        copy = (await session.scalars(select(Account).where(Account.uri == BOB))).one()
    assert copy.display_name == "ボブ改"
    assert copy.note_html == "<p>新しい自己紹介</p>"
