"""A user's blocks, mutes and domain blocks on one instance, and limited accounts in public
timelines. Remote accounts are rows as the inbox would have stored them (no peer needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, update

from kizuna.container import Services
from kizuna.server.context import services_key
from kizuna.services.domain_policy import PolicyValues
from kizuna.storage.models import (
    Account,
    AccountBlock,
    AccountDomainBlock,
    AccountMute,
    Follow,
    Notification,
    OutboxActivity,
    Post,
    PostTag,
)
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, csrf_token, log_in, make_user, stored_account, submit

NOW = datetime.now(UTC)


async def _remote(services: Services, username: str, domain: str) -> Account:
    account = Account(
        username=username,
        username_key=username,
        domain=domain,
        uri=f"https://{domain}/users/{username}",
        inbox_url=f"https://{domain}/users/{username}/inbox",
        created_at=NOW,
        updated_at=NOW,
    )
    async with services.db.begin() as session:
        session.add(account)
    return account


async def _remote_post(services: Services, author: Account, text: str, tag: str = "") -> Post:
    async with services.db.begin() as session:
        post = Post(
            uri=f"{author.uri}/statuses/{len(text)}{text.__hash__() & 0xFFFF}",
            account_id=author.id,
            local=False,
            content_html=f"<p>{text}</p>",
            visibility="public",
            created_at=NOW,
        )
        session.add(post)
        await session.flush()
        if tag:
            session.add(PostTag(post_id=post.id, tag=tag))
    return post


async def _follow(services: Services, follower: Account, target: Account) -> None:
    async with services.db.begin() as session:
        session.add(
            Follow(
                account_id=follower.id,
                target_account_id=target.id,
                state="accepted",
                uri=f"{follower.uri}#follows/{target.id}",
                created_at=NOW,
            )
        )


async def _count(services: Services, model: type, *where: object) -> int:
    async with services.db.begin() as session:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(stmt) or 0)


async def _text(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, path
    return await response.text()


async def _notified(services: Services, account: Account) -> list[str]:
    notes = await services.interactions.notifications(account)
    return [f"{n.kind}:{n.from_account.acct}" for n in notes]


async def test_block_local_account_then_follows_end_and_both_see_nothing(
    make_client: ClientFactory, services: Services
) -> None:
    alice_client, bob_client, anonymous = (
        await make_client(),
        await make_client(),
        await make_client(),
    )
    await log_in(alice_client, await make_user(services, "alice"))
    await log_in(bob_client, await make_user(services, "bob"))
    alice, bob = await stored_account(services, "alice"), await stored_account(services, "bob")
    await services.follows.follow(alice, "bob")
    await services.follows.follow(bob, "alice")
    await services.posts.create(alice, "alice before the block")
    await services.posts.create(bob, "bob before the block")

    response = await submit(alice_client, "/@bob/block", {}, form_page="/@bob")
    assert response.status == 303
    assert await repo_follow_pairs(services) == set()
    assert await _count(services, OutboxActivity) == 0  # a local block stays local

    await services.posts.create(bob, "bob after the block @alice")
    alice_home = await _text(alice_client, "/")
    assert "bob before the block" not in alice_home
    assert "bob after the block" not in alice_home
    assert "bob after the block" not in await _text(alice_client, "/public")
    assert "alice before the block" not in await _text(bob_client, "/public")
    assert await _notified(services, alice) == []  # the mention did not notify
    # Blocked: alice's profile shows bob nothing; others still see her posts.
    assert "alice before the block" not in await _text(bob_client, "/@alice")
    assert "alice before the block" in await _text(anonymous, "/@alice")
    assert "Unblock</button>" in await _text(alice_client, "/@bob")
    assert "bob" in await _text(alice_client, "/settings/blocks")

    response = await submit(alice_client, "/@bob/unblock", {}, form_page="/@bob")
    assert response.status == 303
    assert await _count(services, AccountBlock) == 0
    assert "bob after the block" in await _text(alice_client, "/public")
    assert "alice before the block" in await _text(bob_client, "/@alice")


async def repo_follow_pairs(services: Services) -> set[tuple[int, int]]:
    async with services.db.begin() as session:
        rows = (await session.execute(select(Follow.account_id, Follow.target_account_id))).all()
    return {(a, b) for a, b in rows}


async def test_mute_hides_from_home_and_notifications_not_from_profile(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = await stored_account(services, "alice")
    bob = (await services.accounts.create_user("bob", "password-bob")).account
    await services.follows.follow(alice, "bob")
    mine = await services.posts.create(alice, "alice asks")
    await services.posts.create(bob, "bob muttering")
    boost_source = await services.posts.create(alice, "alice's own, boosted by bob")
    await services.interactions.boost(bob, boost_source.id)

    response = await submit(
        client, "/@bob/mute", {"duration": "1d", "notifications": "on"}, form_page="/@bob"
    )
    assert response.status == 303
    (mute,) = (await services.blocks.lists(alice)).mutes
    assert mute.notifications is True
    assert mute.expires_at is not None
    assert timedelta(hours=23) < mute.expires_at - datetime.now(UTC) <= timedelta(days=1)
    assert await repo_follow_pairs(services) == {(alice.id, bob.id)}  # a mute keeps follows

    home = await _text(client, "/")
    assert "bob muttering" not in home
    assert "alice asks" in home
    assert "bob muttering" in await _text(client, "/@bob")  # the profile still shows them
    await services.posts.create(bob, "bob replies", in_reply_to=mine.id)
    assert await _notified(services, alice) == []  # the boost's and the reply's: none
    page = await _text(client, "/@bob")
    assert "Unmute</button>" in page
    assert "Muted until" in page

    # Muting again without notifications: they come back, posts stay hidden.
    await submit(client, "/@bob/mute", {"duration": "forever"}, form_page="/@bob")
    (mute,) = (await services.blocks.lists(alice)).mutes
    assert (mute.notifications, mute.expires_at) == (False, None)
    await services.posts.create(bob, "bob mentions @alice")
    # The reply's was never made (filtered at creation); the boost's, made before the mute,
    # was only hidden while notifications were muted.
    assert await _notified(services, alice) == ["mention:bob", "boost:bob"]
    assert "bob mentions" not in await _text(client, "/")

    # An expired mute hides nothing (and is not listed).
    async with services.db.begin() as session:
        await session.execute(update(AccountMute).values(expires_at=NOW - timedelta(minutes=1)))
    assert "bob muttering" in await _text(client, "/")
    assert (await services.blocks.lists(alice)).mutes == []

    await submit(client, "/@bob/unmute", {}, form_page="/@bob")
    assert await _count(services, AccountMute) == 0


async def test_domain_block_hides_posts_boosts_notifications_and_ends_follows(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = await stored_account(services, "alice")
    carol = (await services.accounts.create_user("carol", "password-carol")).account
    wolf = await _remote(services, "wolf", "evil.test")
    fox = await _remote(services, "fox", "sub.evil.test")  # user blocks match the host only
    await _follow(services, wolf, alice)
    await _follow(services, alice, wolf)
    await _follow(services, alice, fox)
    await services.follows.follow(alice, "carol")
    await _remote_post(services, wolf, "wolf howls")
    await _remote_post(services, fox, "fox on a subdomain")
    boosted = await _remote_post(services, wolf, "wolf post boosted by carol")
    await services.interactions.boost(carol, boosted.id)
    async with services.db.begin() as session:
        session.add(
            Notification(
                account_id=alice.id, kind="follow", from_account_id=wolf.id, created_at=NOW
            )
        )
    home = await _text(client, "/")
    assert "wolf howls" in home
    assert "wolf post boosted by carol" in home

    token = await csrf_token(client, "/settings/blocks")
    response = await client.post(
        "/settings/blocks/domains",
        data={"domain": "https://EVIL.test/", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    assert (await services.blocks.lists(alice)).domains == ["evil.test"]
    home = await _text(client, "/")
    assert "wolf howls" not in home
    assert "wolf post boosted by carol" not in home
    assert "fox on a subdomain" in home
    # wolf no longer follows alice, nor she it; fox (another host) is untouched.
    assert await repo_follow_pairs(services) == {(alice.id, fox.id), (alice.id, carol.id)}
    async with services.db.begin() as session:
        sent = select(OutboxActivity.activity_type).where(OutboxActivity.account_id == alice.id)
        kinds = (await session.scalars(sent)).all()
    assert sorted(kinds) == ["Reject", "Undo"]
    assert await _count(services, Notification, Notification.account_id == alice.id) == 0
    page = await _text(client, "/@wolf@evil.test")
    assert "You hide everything from evil.test" in page

    # Showing the domain again brings its posts back (follows are not restored).
    response = await client.post(
        "/settings/blocks/domains",
        data={"domain": "evil.test", "remove": "1", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    assert await _count(services, AccountDomainBlock) == 0
    assert "wolf post boosted by carol" in await _text(client, "/")


async def test_limited_account_and_domain_left_out_of_public_timelines_not_home(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = await stored_account(services, "alice")
    dave = (await services.accounts.create_user("dave", "password-dave")).account
    quiet = await _remote(services, "q", "deep.quiet.test")
    loud = await _remote(services, "l", "notquiet.test")  # only a real subdomain is covered
    await services.posts.create(dave, "dave #news")
    await _remote_post(services, quiet, "from a silenced server", tag="news")
    await _remote_post(services, loud, "from a server next door", tag="news")
    await services.follows.follow(alice, "dave")
    await _follow(services, alice, quiet)

    async with services.db.begin() as session:
        await session.execute(update(Account).where(Account.id == dave.id).values(silenced_at=NOW))
    # Through the app's own services: its policy snapshot is the one the pages read.
    assert isinstance(client.server, TestServer)
    app_services = client.server.app[services_key]
    await app_services.domain_policy.set_policy(
        None, "quiet.test", PolicyValues(severity="silence")
    )

    assert "dave #news" not in await _text(client, "/public")
    tagged = await _text(client, "/tags/news")
    assert "dave" not in tagged
    assert "from a silenced server" not in tagged
    assert "from a server next door" in tagged
    federated = await app_services.timelines.public(alice, local_only=False)
    shown = [p.content_html for p in federated.posts]
    assert shown == ["<p>from a server next door</p>"]
    home = await _text(client, "/")  # followers still see them
    assert "dave" in home
    assert "from a silenced server" in home


async def test_bad_input_is_refused_and_changes_nothing(
    make_client: ClientFactory, services: Services
) -> None:
    client, anonymous = await make_client(), await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = await stored_account(services, "alice")
    await services.accounts.create_user("bob", "password-bob")

    assert (await submit(client, "/@alice/block", {}, form_page="/")).status == 422
    assert (await submit(client, "/@alice/mute", {}, form_page="/")).status == 422
    assert (await submit(client, "/@nobody/block", {}, form_page="/")).status == 404
    assert (await submit(client, "/@bob@nowhere.test/block", {}, form_page="/")).status == 404
    bad_duration = await submit(client, "/@bob/mute", {"duration": "1y"}, form_page="/")
    assert bad_duration.status == 422
    assert "mute duration" in await bad_duration.text()
    for domain, message in [
        ("not a domain", "not a full domain name"),
        ("bad_name.test", "not a valid domain name"),
        ("localhost:8080", "not one port"),
        ("", "empty"),
        ("127.0.0.1", "IP address"),
    ]:
        response = await submit(
            client, "/settings/blocks/domains", {"domain": domain}, form_page="/settings/blocks"
        )
        assert response.status == 422, domain
        assert message in await response.text(), domain
    own = services.config.domain
    response = await submit(
        client, "/settings/blocks/domains", {"domain": own}, form_page="/settings/blocks"
    )
    assert response.status == 422
    assert "the domain of this server itself" in await response.text()
    missing = await submit(
        client,
        "/settings/blocks/domains",
        {"domain": "never.test", "remove": "1"},
        form_page="/settings/blocks",
    )
    assert missing.status == 404
    for model in (AccountBlock, AccountMute, AccountDomainBlock):
        assert await _count(services, model) == 0
    lists = await services.blocks.lists(alice)
    assert (lists.blocks, lists.mutes, lists.domains) == ([], [], [])
    # Not logged in: the JSON lists say so rather than redirecting.
    assert (await anonymous.get("/api/blocks")).status == 401


async def test_settings_page_and_json_lists(make_client: ClientFactory, services: Services) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = await stored_account(services, "alice")
    bob = (await services.accounts.create_user("bob", "password-bob")).account
    carol = (await services.accounts.create_user("carol", "password-carol")).account
    await services.blocks.block(alice, bob.id)
    await services.blocks.mute(alice, carol.id, duration="7d", notifications=False)
    await services.blocks.block_domain(alice, "spam.test")

    page = await _text(client, "/settings/blocks")
    assert 'id="block-' in page
    assert "@bob" in page
    assert "@carol" in page
    assert "notifications still shown" in page
    assert "spam.test" in page
    blocks_json = await (await client.get("/api/blocks")).json()
    assert [b["acct"] for b in blocks_json] == ["bob"]
    (mute,) = await (await client.get("/api/mutes")).json()
    assert (mute["acct"], mute["notifications"]) == ("carol", False)
    assert mute["expires_at"] is not None
    assert await (await client.get("/api/domain_blocks")).json() == ["spam.test"]

    token = await csrf_token(client, "/settings/blocks")
    for path in (f"/settings/blocks/{bob.id}/unblock", f"/settings/blocks/{carol.id}/unmute"):
        response = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
        assert response.status == 303
    assert await (await client.get("/api/blocks")).json() == []
    assert await (await client.get("/api/mutes")).json() == []
