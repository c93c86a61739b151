"""GET /api/timelines/home: the home feed as Mastodon-style Status JSON, read by session cookie."""

from __future__ import annotations

from kizuna.container import Services
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, log_in, make_user

PATH = "/api/timelines/home"


async def _reader(make_client: ClientFactory, services: Services, name: str = "alice") -> Client:
    client = await make_client()
    await log_in(client, await make_user(services, name))
    return client


async def test_home_api__not_logged_in__401_json(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get(PATH)
    assert response.status == 401
    assert response.content_type == "application/json"
    assert "log in" in (await response.json())["error"]


async def test_home_api__statuses_of_followed_and_own_newest_first(
    make_client: ClientFactory, services: Services
) -> None:
    client = await _reader(make_client, services)
    alice = (await services.accounts.list_users())[0].account
    bob = (await services.accounts.create_user("bob", "password-bob")).account
    carol = (await services.accounts.create_user("carol", "password-carol")).account
    await services.follows.follow(alice, "bob")
    first = await services.posts.create(bob, "bob <b>first</b>", summary="a warning")
    await services.posts.create(carol, "carol, not followed")
    own = await services.posts.create(alice, "alice own")

    response = await client.get(PATH)
    assert response.status == 200
    statuses = await response.json()
    assert [s["id"] for s in statuses] == [str(own.id), str(first.id)]
    status = statuses[1]
    assert status["uri"] == first.uri
    assert status["url"] == first.url
    assert status["created_at"].endswith("Z")
    assert "first" in status["content"]
    assert "<b>" not in status["content"]  # stored sanitised: markup from the text is escaped
    assert status["spoiler_text"] == "a warning"
    assert status["visibility"] == "public"
    assert status["account"]["id"] == str(bob.id)
    assert status["account"]["username"] == "bob"
    assert status["account"]["acct"] == "bob"
    assert status["account"]["url"]
    assert status["reblog"] is None
    assert (status["replies_count"], status["reblogs_count"], status["favourites_count"]) == (
        0,
        0,
        0,
    )
    assert status["reactions"] == []


async def test_home_api__counts_reactions_and_a_boost_nests_its_post(
    make_client: ClientFactory, services: Services
) -> None:
    client = await _reader(make_client, services)
    alice = (await services.accounts.list_users())[0].account
    bob = (await services.accounts.create_user("bob", "password-bob")).account
    carol = (await services.accounts.create_user("carol", "password-carol")).account
    await services.follows.follow(alice, "bob")
    original = await services.posts.create(carol, "carol's post")
    await services.interactions.like(alice, original.id)
    await services.reactions.react(alice, original.id, "🎉")
    await services.reactions.react(bob, original.id, "🎉")
    await services.posts.create(bob, "a reply", in_reply_to=original.id)
    await services.interactions.boost(bob, original.id)

    statuses = await (await client.get(PATH)).json()
    boost = statuses[0]
    assert boost["account"]["username"] == "bob"
    inner = boost["reblog"]
    assert inner["id"] == str(original.id)
    assert inner["account"]["username"] == "carol"
    assert inner["reblogs_count"] == 1
    assert inner["replies_count"] == 1
    assert inner["favourites_count"] == 1
    assert inner["favourited"] is True
    assert inner["reactions"] == [{"name": "🎉", "count": 2, "me": True, "url": None}]
    assert boost["favourited"] is True
    assert boost["content"] == ""


async def test_home_api__pages_by_max_id_and_limit(
    make_client: ClientFactory, services: Services
) -> None:
    client = await _reader(make_client, services)
    alice = (await services.accounts.list_users())[0].account
    created = [(await services.posts.create(alice, f"post {i}")).id for i in range(7)]
    newest = sorted(created, reverse=True)

    response = await client.get(PATH, params={"limit": "3"})
    assert [int(s["id"]) for s in await response.json()] == newest[:3]
    assert f"max_id={newest[2]}" in response.headers["Link"]
    assert 'rel="next"' in response.headers["Link"]

    older = await client.get(PATH, params={"limit": "3", "max_id": str(newest[2])})
    assert [int(s["id"]) for s in await older.json()] == newest[3:6]
    last = await client.get(PATH, params={"limit": "3", "max_id": str(newest[5])})
    assert [int(s["id"]) for s in await last.json()] == newest[6:]
    assert "Link" not in last.headers

    default = await (await client.get(PATH)).json()
    assert len(default) == 7  # under the default of 20


async def test_home_api__garbage_parameters__400_json(
    make_client: ClientFactory, services: Services
) -> None:
    client = await _reader(make_client, services)
    for params in ({"limit": "abc"}, {"limit": "0"}, {"limit": "41"}, {"limit": "-3"}):
        response = await client.get(PATH, params=params)
        assert response.status == 400, params
        assert "limit" in (await response.json())["error"]
    for raw in ("abc", "12x", "9" * 25):
        response = await client.get(PATH, params={"max_id": raw})
        assert response.status == 400, raw
        assert "max_id" in (await response.json())["error"]
    assert (await client.get(PATH, params={"limit": "40"})).status == 200
