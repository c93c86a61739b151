"""The home feed: chronological, own + followed posts, paged by id, constant query count."""

from __future__ import annotations

import re

from kizuna.container import Services
from kizuna.services.accounts import ProfileUpdate
from kizuna.storage.engine import Database
from tests.integration.conftest import ClientFactory
from tests.integration.statements import count_statements
from tests.integration.web import log_in, make_user, submit, write_post

POST_IDS_RE = re.compile(r'data-post-id="(\d+)"')


async def test_follow_then_followed_posts_in_home_newest_first(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await make_client()
    await log_in(alice, await make_user(services, "alice"))
    bob = await services.accounts.create_user("bob", "password-bob")
    carol = await services.accounts.create_user("carol", "password-carol")
    await services.posts.create(bob.account, "bob first")
    await services.posts.create(carol.account, "carol, not followed")
    await submit(alice, "/@bob/follow", {}, form_page="/")
    await write_post(alice, "alice own")
    await services.posts.create(bob.account, "bob second")
    await services.posts.create(bob.account, "bob secret", visibility="private")
    await services.posts.create(bob.account, "bob direct to someone else", visibility="direct")
    home = await (await alice.get("/")).text()
    order = [
        text for text in ("bob secret", "bob second", "alice own", "bob first") if text in home
    ]
    assert order == ["bob secret", "bob second", "alice own", "bob first"]
    assert [home.index(t) for t in order] == sorted(home.index(t) for t in order)
    assert "carol, not followed" not in home
    assert "bob direct" not in home

    await submit(alice, "/@bob/unfollow", {}, form_page="/")
    home = await (await alice.get("/")).text()
    assert "bob first" not in home
    assert "alice own" in home


async def test_home__pages_of_40_by_max_id(make_client: ClientFactory, services: Services) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    user = (await services.accounts.list_users())[0]
    created = [(await services.posts.create(user.account, f"post {i}")).id for i in range(45)]
    first = await (await client.get("/")).text()
    first_ids = [int(x) for x in POST_IDS_RE.findall(first)]
    assert first_ids == sorted(created, reverse=True)[:40]
    next_link = re.search(r'href="\?max_id=(\d+)" rel="next"', first)
    assert next_link is not None
    second = await (await client.get(f"/?max_id={next_link.group(1)}")).text()
    second_ids = [int(x) for x in POST_IDS_RE.findall(second)]
    assert second_ids == sorted(created, reverse=True)[40:]
    assert 'rel="next"' not in second
    assert (await client.get("/?max_id=abc")).status == 400


async def test_home__query_count_does_not_grow_with_authors(
    make_client: ClientFactory, services: Services, db: Database
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "reader"))
    reader = (await services.accounts.list_users())[0].account

    async def statements_for_home() -> int:
        with count_statements(db) as seen:
            response = await client.get("/")
            assert response.status == 200
        return len(seen)

    authors = [await services.accounts.create_user(f"author{i}", "password-x") for i in range(6)]
    for author in authors[:2]:
        await services.follows.follow(reader, author.account.username)
        await services.posts.create(author.account, "hello")
    few = await statements_for_home()
    for author in authors[2:]:
        await services.follows.follow(reader, author.account.username)
        for _ in range(5):
            await services.posts.create(author.account, "more")
    many = await statements_for_home()
    assert few == many


async def test_profile__lists_posts_and_counts(
    make_client: ClientFactory, services: Services
) -> None:
    viewer = await make_client()
    await log_in(viewer, await make_user(services, "viewer"))
    bob = await services.accounts.create_user("bob", "password-bob")
    await services.posts.create(bob.account, "public words")
    await services.posts.create(bob.account, "for followers", visibility="private")
    page = await (await viewer.get("/@BOB")).text()
    assert "public words" in page
    assert "for followers" not in page
    assert "0 followers" in page
    await submit(viewer, "/@bob/follow", {}, form_page="/")
    page = await (await viewer.get("/@bob")).text()
    assert "for followers" in page
    assert "1 follower<" in page
    assert (await viewer.get("/@nobody")).status == 404


async def test_follow__self_and_unknown_are_clear_errors(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await submit(client, "/@alice/follow", {}, form_page="/")
    assert response.status == 422
    assert "cannot follow yourself" in await response.text()
    response = await submit(client, "/@ghost/follow", {}, form_page="/")
    assert response.status == 404


async def test_follow_locked_account_then_pending_then_accepted(
    make_client: ClientFactory, services: Services
) -> None:
    fan, star = await make_client(), await make_client()
    await log_in(fan, await make_user(services, "fan"))
    await log_in(star, await make_user(services, "star"))
    save = {"display_name": "", "note": "", "locked": "on"}
    assert (await submit(star, "/settings/profile", save, form_page="/")).status == 303
    await write_post(star, "followers only news", visibility="private")

    await submit(fan, "/@star/follow", {}, form_page="/")
    assert "Requested" in await (await fan.get("/@star")).text()
    assert "followers only news" not in await (await fan.get("/")).text()

    requests_page = await (await star.get("/follow_requests")).text()
    assert "@fan" in requests_page
    fan_id = (await services.accounts.list_users())[0].account.id
    response = await submit(star, f"/follow_requests/{fan_id}/accept", {}, form_page="/")
    assert response.status == 303
    assert "followers only news" in await (await fan.get("/")).text()
    # Deciding twice is a clear 404, not a 500.
    response = await submit(star, f"/follow_requests/{fan_id}/reject", {}, form_page="/")
    assert response.status == 404


async def test_follow_request_rejected_then_gone(
    make_client: ClientFactory, services: Services
) -> None:
    fan = await make_client()
    await log_in(fan, await make_user(services, "fan"))
    star = await services.accounts.create_user("star", "password-star")
    await services.accounts.update_profile(star.account.id, ProfileUpdate(locked=True))
    await submit(fan, "/@star/follow", {}, form_page="/")
    (pending,) = await services.follows.requests(star.account)
    assert pending.username == "fan"
    await services.follows.decide(star.account, pending.id, accept=False)
    assert await services.follows.requests(star.account) == []
    assert "Follow</button>" in await (await fan.get("/@star")).text()
