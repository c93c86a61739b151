"""CSRF is decided per route: unknown paths (Mastodon-API clients probing /api/v1/…) get
their own 404/405, while every form and cookie-authenticated change still needs the token."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from kizuna.container import Services
from kizuna.storage.models import Post
from tests.integration.conftest import ClientFactory
from tests.integration.web import log_in, make_user

PROBES = [
    ("POST", "/api/v1/apps"),
    ("POST", "/api/v2/media"),
    ("POST", "/oauth/token"),
    ("DELETE", "/api/v1/statuses/1"),
    ("POST", "/no/such/page"),
]


async def test_unknown_paths__404_not_a_form_error(
    make_client: ClientFactory, services: Services
) -> None:
    anonymous = await make_client()
    logged_in = await make_client()
    await log_in(logged_in, await make_user(services, "alice"))
    for client in (anonymous, logged_in):
        for method, path in PROBES:
            response = await client.request(
                method,
                path,
                data=json.dumps({"client_name": "probe"}),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            assert response.status == 404, (method, path)
            assert (await response.json())["error"], (method, path)


async def test_api_v1_apps__404_json_without_accept(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post("/api/v1/apps", data={"client_name": "probe"})
    assert response.status == 404
    assert response.content_type == "application/json"


async def test_method_not_allowed__405_not_a_form_error(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.post("/api/blocks", data={})
    assert response.status == 405


async def test_cookie_authenticated_change_without_token__still_403(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = (await services.accounts.list_users())[0].account
    post = await services.posts.create(alice, "hello")
    for path, data in (
        ("/posts", {"content": "forged"}),
        (f"/posts/{post.id}/like", {}),
        (f"/posts/{post.id}/react", {"emoji": "👍"}),
        ("/settings/feed", {"community_every": "0"}),
        ("/logout", {}),
    ):
        response = await client.post(path, data=data, allow_redirects=False)
        assert response.status == 403, path
        assert "did not come from this site" in await response.text()
    async with services.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 1


async def test_login_form_without_token__403(
    make_client: ClientFactory, services: Services
) -> None:
    # A forged log-in (into the attacker's account) is refused like any other form.
    person = await make_user(services, "alice")
    client = await make_client()
    form = {"username": "alice", "password": person.password}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 403
    assert "kizuna_session" not in response.cookies
