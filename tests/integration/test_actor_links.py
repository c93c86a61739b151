"""Every URL an actor document advertises answers: collections and keys as JSON, the profile
and images as themselves. Walks each actor type we serve (person, group, instance actor)
and the first page of each collection, so no advertised link can be a 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kizuna.container import Services
from kizuna.services.accounts import ProfileUpdate
from kizuna.services.communities import NewCommunity
from tests.fakes.images import png
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, make_user

AP = "application/activity+json"
# POST-only endpoints: they take deliveries, a GET has nothing to show.
POST_ONLY = ("inbox", "sharedInbox")
# Keys whose value is a link to one of our documents (what a peer follows).
JSON_LINKS = ("outbox", "followers", "following", "featured", "featuredTags", "attributedTo")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _get_json(client: Client, url: str) -> Any:
    response = await client.get(_path(url), headers={"Accept": AP}, allow_redirects=False)
    assert response.status == 200, f"{url}: {response.status}"
    assert response.content_type == AP, url
    return await response.json(content_type=None)


async def _walk_actor(client: Client, actor_url: str) -> list[str]:
    """Every link of the actor fetched and checked; returns what was visited."""
    actor = await _get_json(client, actor_url)
    assert actor["id"] == actor_url
    visited = [actor_url]
    for key in JSON_LINKS:
        if key not in actor:
            continue
        collection = await _get_json(client, actor[key])
        assert collection["id"] == actor[key], key
        assert collection["type"] in ("OrderedCollection", "Collection"), key
        assert isinstance(collection.get("totalItems"), int), key
        visited.append(actor[key])
        if "first" in collection:  # the first page, as a peer walking it would
            page = await _get_json(client, collection["first"])
            assert page["partOf"] == actor[key]
            assert isinstance(page["orderedItems"], list)
            visited.append(collection["first"])
    key_doc = await _get_json(client, actor["publicKey"]["id"].split("#")[0])
    assert key_doc["publicKey"]["id"] == actor["publicKey"]["id"]
    for key in ("icon", "image"):
        if key in actor:
            image = await client.get(_path(actor[key]["url"]))
            assert image.status == 200, actor[key]["url"]
            assert image.content_type == actor[key]["mediaType"]
    profile = await client.get(_path(actor["url"]))
    assert profile.status == 200, actor["url"]
    assert profile.content_type == "text/html"
    advertised = {k for k, v in actor.items() if isinstance(v, str) and v.startswith("http")}
    assert advertised <= {"id", "url", "attributedTo", *JSON_LINKS, *POST_ONLY}, advertised
    return visited


async def test_every_url_each_actor_type_advertises_answers(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    (alice,) = [u.account for u in await services.accounts.list_users()]
    await services.accounts.update_profile(alice.id, ProfileUpdate(avatar=png(), header=png()))
    await services.communities.create(alice, NewCommunity(slug="tokyo", name="Tokyo"))
    await services.posts.create(alice, "a post for the outbox")
    client = await make_client()
    base = services.config.base_url
    for actor_url in (f"{base}/users/alice", f"{base}/c/tokyo", f"{base}/actor"):
        visited = await _walk_actor(client, actor_url)
        assert len(visited) > 4, visited
