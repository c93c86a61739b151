"""WebFinger, host-meta, NodeInfo, actors and collections as another server sees them."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.container import Services
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, log_in, make_user, submit

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BASE = "http://kizuna.test"


async def _json(client: Client, path: str, accept: str = AP, status: int = 200) -> Any:
    response = await client.get(path, headers={"Accept": accept}, allow_redirects=False)
    assert response.status == status, await response.text()
    return await response.json(content_type=None)


async def test_webfinger__acct_then_jrd_with_links_and_cors(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "Alice")
    client = await make_client()
    for resource in (
        "acct:alice@kizuna.test",
        "acct:ALICE@KIZUNA.TEST",
        "acct:@alice@kizuna.test",
        f"{BASE}/users/Alice",
        f"{BASE}/@Alice",
    ):
        response = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert response.status == 200, resource
        assert response.headers["Content-Type"].startswith("application/jrd+json")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        jrd = await response.json(content_type=None)
        assert jrd["subject"] == "acct:Alice@kizuna.test"
        assert jrd["aliases"] == [f"{BASE}/@Alice", f"{BASE}/users/Alice"]
        links = {link["rel"]: link for link in jrd["links"]}
        assert links["self"] == {"rel": "self", "type": AP, "href": f"{BASE}/users/Alice"}
        assert links["http://webfinger.net/rel/profile-page"]["href"] == f"{BASE}/@Alice"
        template = links["http://ostatus.org/schema/1.0/subscribe"]["template"]
        assert template == f"{BASE}/authorize_interaction?uri={{uri}}"


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ("acct:nobody@kizuna.test", 404),
        ("acct:alice@elsewhere.example", 404),
        ("https://elsewhere.example/users/alice", 404),
        ("", 400),
        ("acct:", 400),
        ("not a resource at all", 400),
        ("acct:a@b@c", 400),
    ],
)
async def test_webfinger__bad_resources(
    make_client: ClientFactory, services: Services, resource: str, status: int
) -> None:
    await make_user(services, "alice")
    client = await make_client()
    response = await client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status == status
    assert "error" in await response.json(content_type=None)
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # errors too


async def test_webfinger__instance_actor(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get(
        "/.well-known/webfinger", params={"resource": "acct:kizuna.test@kizuna.test"}
    )
    jrd = await response.json(content_type=None)
    assert jrd["subject"] == "acct:kizuna.test@kizuna.test"
    (self_link,) = [link for link in jrd["links"] if link["rel"] == "self"]
    assert self_link["href"] == f"{BASE}/actor"
    actor = await _json(client, "/actor")
    assert actor["type"] == "Application"
    assert actor["preferredUsername"] == "kizuna.test"
    assert actor["publicKey"]["id"] == f"{BASE}/actor#main-key"
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")


async def test_host_meta__xml_and_json(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/.well-known/host-meta")
    assert response.headers["Content-Type"].startswith("application/xrd+xml")
    assert f'template="{BASE}/.well-known/webfinger?resource={{uri}}"' in await response.text()
    doc = await (await client.get("/.well-known/host-meta.json")).json()
    assert doc["links"][0]["template"] == f"{BASE}/.well-known/webfinger?resource={{uri}}"


async def test_nodeinfo__links_then_real_usage(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    await make_user(services, "bob")
    await services.accounts.create_user("pending", "password-p", approved=False)
    alice = next(u for u in await services.accounts.list_users() if u.account.username == "alice")
    await services.posts.create(alice.account, "one")
    await services.posts.create(alice.account, "two")
    links = await (await client.get("/.well-known/nodeinfo")).json()
    hrefs = {link["rel"].rsplit("/", 1)[1]: link["href"] for link in links["links"]}
    assert hrefs == {"2.0": f"{BASE}/nodeinfo/2.0", "2.1": f"{BASE}/nodeinfo/2.1"}
    for version in ("2.0", "2.1"):
        response = await client.get(f"/nodeinfo/{version}")
        assert f"ns/schema/{version}#" in response.headers["Content-Type"]
        doc = await response.json(content_type=None)
        assert doc["version"] == version
        assert doc["software"]["name"] == "kizuna"
        # alice logged in and posted; bob never did; the pending sign-up is not a user yet.
        assert doc["usage"] == {
            "users": {"total": 2, "activeMonth": 1, "activeHalfyear": 1},
            "localPosts": 2,
        }
        assert doc["openRegistrations"] is True  # approval mode still takes sign-ups
    await services.settings.set_registrations("closed")
    doc = await (await client.get("/nodeinfo/2.1")).json(content_type=None)
    assert doc["openRegistrations"] is False


@pytest.mark.parametrize("accept", [AP, LD, "application/ld+json", f"text/html;q=0.5, {AP}"])
async def test_actor__content_negotiation_serves_person(
    make_client: ClientFactory, services: Services, accept: str
) -> None:
    await make_user(services, "alice")
    client = await make_client()
    response = await client.get("/users/alice", headers={"Accept": accept})
    assert response.status == 200
    assert response.headers["Content-Type"] == f"{AP}; charset=utf-8"
    assert response.headers["Vary"] == "Accept"
    actor = await response.json(content_type=None)
    assert actor["id"] == f"{BASE}/users/alice"
    assert actor["type"] == "Person"
    assert actor["inbox"] == f"{BASE}/users/alice/inbox"
    assert actor["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert actor["publicKey"]["owner"] == actor["id"]
    # The same document from the profile URL, as Mastodon serves it.
    assert await _json(client, "/@alice", accept) == actor


async def test_actor__browsers_get_the_profile_page(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    client = await make_client()
    response = await client.get(
        "/users/alice", headers={"Accept": "text/html,*/*"}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == "/@alice"
    await _json(client, "/users/nobody", status=404)


async def test_actor__profile_edits_show_in_document(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    form = {"display_name": "アリス", "note": "東京", "locked": "on"}
    await submit(client, "/settings/profile", form, form_page="/")
    actor = await _json(client, "/users/alice")
    assert actor["name"] == "アリス"
    assert actor["summary"] == "<p>東京</p>"
    assert actor["manuallyApprovesFollowers"] is True


async def test_collections__outbox_followers_following_paged(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await services.accounts.create_user("alice", "password-a")
    bob = await services.accounts.create_user("bob", "password-b")
    await services.follows.follow(bob.account, "alice")
    posts = [await services.posts.create(alice.account, f"post {i} #tag") for i in range(23)]
    await services.posts.create(alice.account, "secret", visibility="private")
    client = await make_client()

    outbox = await _json(client, "/users/alice/outbox")
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 23
    first = await _json(client, "/users/alice/outbox?page=true")
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == f"{BASE}/users/alice/outbox"
    items = first["orderedItems"]
    assert len(items) == 20
    assert items[0]["type"] == "Create"
    assert items[0]["object"]["content"].startswith("<p>post 22")
    assert items[0]["object"]["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert items[0]["object"]["cc"] == [f"{BASE}/users/alice/followers"]
    next_path = first["next"].removeprefix(BASE)
    rest = (await _json(client, next_path))["orderedItems"]
    assert [i["object"]["id"] for i in items + rest] == [
        f"{BASE}/users/alice/statuses/{p.id}" for p in reversed(posts)
    ]

    followers = await _json(client, "/users/alice/followers")
    assert followers["totalItems"] == 1
    page = await _json(client, "/users/alice/followers?page=1")
    assert page["orderedItems"] == [f"{BASE}/users/bob"]
    assert (await _json(client, "/users/bob/following?page=1"))["orderedItems"] == [
        f"{BASE}/users/alice"
    ]
    assert (await _json(client, "/users/alice/collections/featured"))["totalItems"] == 0
    await _json(client, "/users/alice/followers?page=zero", status=400)


async def test_status__note_and_activity_by_negotiation(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await services.accounts.create_user("alice", "password-a")
    await services.accounts.create_user("bob", "password-b")
    post = await services.posts.create(alice.account, "hi @bob #東京", language="ja")
    secret = await services.posts.create(alice.account, "secret", visibility="private")
    client = await make_client()
    note = await _json(client, f"/users/alice/statuses/{post.id}")
    assert note["type"] == "Note"
    assert note["attributedTo"] == f"{BASE}/users/alice"
    assert note["contentMap"] == {"ja": note["content"]}
    tags = {t["type"]: t for t in note["tag"]}
    assert tags["Mention"] == {
        "type": "Mention",
        "href": f"{BASE}/users/bob",
        "name": "@bob@kizuna.test",
    }
    assert tags["Hashtag"]["name"] == "#東京"
    assert f"{BASE}/users/bob" in note["cc"]
    activity = await _json(client, f"/users/alice/statuses/{post.id}/activity")
    assert activity["type"] == "Create"
    assert activity["object"]["id"] == note["id"]
    response = await client.get(f"/users/alice/statuses/{post.id}", allow_redirects=False)
    assert response.headers["Location"] == f"/@alice/{post.id}"
    # Followers-only posts are not served to anonymous fetches.
    await _json(client, f"/users/alice/statuses/{secret.id}", status=404)
