"""Drive the web UI like a browser does: fetch the form, send its CSRF token back."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from kizuna.container import Services
from kizuna.storage import repo
from kizuna.storage.models import Account

Client = TestClient[web.Request, web.Application]

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def csrf_token(client: Client, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(await response.text())
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def submit(
    client: Client, path: str, data: dict[str, str], *, form_page: str = "/login"
) -> ClientResponse:
    token = await csrf_token(client, form_page)
    return await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)


@dataclass
class Person:
    username: str
    password: str


async def make_user(services: Services, username: str, **kwargs: object) -> Person:
    password = f"pw-{username}-long"
    await services.accounts.create_user(username, password, **kwargs)  # type: ignore[arg-type]
    return Person(username, password)


async def log_in(client: Client, person: Person) -> None:
    response = await submit(
        client, "/login", {"username": person.username, "password": person.password, "next": "/"}
    )
    assert response.status == 303, await response.text()


async def write_post(client: Client, content: str, **fields: str) -> ClientResponse:
    return await submit(client, "/posts", {"content": content, **fields}, form_page="/")


async def stored_account(services: Services, username: str, domain: str = "") -> Account:
    """The account row of `username` (a local one unless `domain` is given)."""
    async with services.db.begin() as session:
        account = await repo.get_account_by_username(session, username.casefold(), domain)
    assert account is not None, username
    return account


async def logged_in(
    make_client: Callable[[], Awaitable[Client]], services: Services, name: str
) -> Client:
    """A new browser, logged in as a new user called `name`."""
    client = await make_client()
    await log_in(client, await make_user(services, name))
    return client


def input_value(page: str, element_id: str) -> str:
    """The value a page's `<input id=…>` comes back with (unescaped)."""
    match = re.search(rf'<input id="{element_id}"[^>]*\svalue="([^"]*)"', page)
    assert match, f"no value on #{element_id}"
    return html.unescape(match.group(1))


def textarea_text(page: str, element_id: str) -> str:
    """The text a page's `<textarea id=…>` comes back with (unescaped)."""
    match = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea #{element_id}"
    return html.unescape(match.group(1))
