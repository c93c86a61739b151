"""Redirect targets taken from a request (log-in's `next`, the Referer a button goes back to,
the page a log-in interrupted) stay on this site, whatever a browser would make of them."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from kizuna.config import Config
from kizuna.container import Services
from tests.integration.conftest import ClientFactory
from tests.integration.web import csrf_token, log_in, make_user, submit

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil",
    "/\t/evil.example/",
    "/\n/evil.example",
    "/\r/evil.example",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%0d%0aSet-Cookie:x=1",
    "https://evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    " /x",
    "/x ",
    "/x\n",
    "/x\r\nSet-Cookie: a=b",
    "/\x00/evil.example",
    "/\u3000/evil.example",
    "/\uff0f\uff0fevil.example",  # fullwidth solidi
    "\uff0f\uff0fevil.example",
]
GOOD = [
    "/c/foo?max_id=1#x",
    "/settings/profile",
    "/@alice@b.test",
    "/tags/%E7%B5%86",
    "/search?q=a%20b",
]


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, rate_login=0)  # every value below is one log-in


async def _login_location(make_client: ClientFactory, password: str, next_path: str) -> str:
    client = await make_client()
    form = {"username": "alice", "password": password, "next": next_path}
    response = await submit(client, "/login", form)
    assert response.status == 303, await response.text()
    assert "kizuna_session" in response.cookies  # a real log-in
    return response.headers["Location"]


async def test_login__hostile_next_goes_home(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    for value in HOSTILE:
        assert await _login_location(make_client, person.password, value) == "/", repr(value)


async def test_login__same_site_next_is_kept(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    for value in GOOD:
        assert await _login_location(make_client, person.password, value) == value


async def test_login_page__hostile_next_is_not_carried(make_client: ClientFactory) -> None:
    client = await make_client()
    page = await (await client.get("/login", params={"next": "/\t/evil.example/"})).text()
    assert 'name="next" value="/"' in page


async def test_logged_out_then_login_returns_to_the_whole_page(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    client = await make_client()
    wanted = "/notifications?max_id=5&q=a%26b"
    response = await client.get(wanted, allow_redirects=False)
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    match = re.search(r'name="next" value="([^"]*)"', page)
    assert match is not None
    next_path = html.unescape(match.group(1))
    assert next_path == wanted  # its own query came along, not cut at '&'
    form = {"username": "alice", "password": person.password, "next": next_path}
    response = await submit(client, "/login", form)
    assert response.headers["Location"] == wanted


async def test_button__hostile_referer_goes_to_the_post(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    alice = (await services.accounts.list_users())[0].account
    post = await services.posts.create(alice, "hello")
    origin = str(client.make_url("/")).rstrip("/")
    hostile = ("/\\evil.example", "/%5C%5Cevil.example", "/x\\y", "//evil.example/")
    for n, path in enumerate(hostile):
        token = await csrf_token(client, "/")
        response = await client.post(
            f"/posts/{post.id}/{('like', 'unlike')[n % 2]}",
            data={"csrf_token": token},
            headers={"Referer": origin + path},
            allow_redirects=False,
        )
        assert response.status == 303
        assert response.headers["Location"] == f"/posts/{post.id}", path
    token = await csrf_token(client, "/")
    response = await client.post(
        f"/posts/{post.id}/unlike",
        data={"csrf_token": token},
        headers={"Referer": origin + "/tags/x?max_id=3"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/tags/x?max_id=3"
