"""Settings → Password: a user changes their own password in the browser."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from aiohttp import web

from kizuna.app import create_app
from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.engine import Database
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, Person, log_in, make_user, submit

NEW = "a new and long password"


def _form(current: str, new: str = NEW, confirm: str | None = None) -> dict[str, str]:
    return {
        "current_password": current,
        "new_password": new,
        "new_password_confirm": new if confirm is None else confirm,
    }


async def _change(client: Client, form: dict[str, str]) -> tuple[int, str]:
    response = await submit(client, "/settings/password", form, form_page="/settings/password")
    return response.status, await response.text()


async def _logged_in(client: Client) -> bool:
    response = await client.get("/settings/profile", allow_redirects=False)
    return response.status == 200


async def test_change_password_then_only_the_new_one_logs_in_and_other_sessions_end(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    here, elsewhere = await make_client(), await make_client()
    await log_in(here, person)
    await log_in(elsewhere, person)
    page = await (await here.get("/settings/profile")).text()
    assert 'href="/settings/password"' in page

    status, _ = await _change(here, _form(person.password))
    assert status == 303
    assert await _logged_in(here)  # the session that changed it stays
    assert not await _logged_in(elsewhere)  # every other one is gone
    assert (
        "You were logged out everywhere else"
        in await (await here.get("/settings/password?saved=1")).text()
    )

    fresh = await make_client()
    old = await submit(fresh, "/login", {"username": "alice", "password": person.password})
    assert old.status == 422
    await log_in(fresh, Person("alice", NEW))


async def test_wrong_current_password__refused_and_nothing_echoed(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    client = await make_client()
    await log_in(client, person)
    status, page = await _change(client, _form("not-my-password"))
    assert status == 422
    assert "your current password is wrong" in page
    assert "not-my-password" not in page
    assert NEW not in page
    await log_in(await make_client(), person)  # the old one still works


async def test_mismatch_and_too_short__refused_with_the_reason(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    client = await make_client()
    await log_in(client, person)
    status, page = await _change(client, _form(person.password, NEW, NEW + "x"))
    assert status == 422
    assert "the two new passwords differ" in page
    assert NEW not in page
    status, page = await _change(client, _form(person.password, "short"))
    assert status == 422
    assert "passwords are 8 to 128 characters" in page
    await log_in(await make_client(), person)  # unchanged


async def test_change_password__needs_the_csrf_token_and_a_log_in(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    client = await make_client()
    anonymous = await client.get("/settings/password", allow_redirects=False)
    assert anonymous.status == 303
    assert anonymous.headers["Location"].startswith("/login?next=")
    await log_in(client, person)
    forged = await client.post(
        "/settings/password", data=_form(person.password), allow_redirects=False
    )
    assert forged.status == 403
    await log_in(await make_client(), person)  # unchanged


async def test_cli_reset_ends_every_session(make_client: ClientFactory, services: Services) -> None:
    person = await make_user(services, "alice")
    client = await make_client()
    await log_in(client, person)
    await services.accounts.set_password("alice", NEW)
    assert not await _logged_in(client)


async def test_change_password__rate_limited_like_log_in(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    config: Config,
    db: Database,
    services: Services,
) -> None:
    person = await make_user(services, "alice")
    app = create_app(dataclasses.replace(config, rate_login=3), db=db)
    client = await aiohttp_client(app)
    try:
        await log_in(client, person)  # one of the three
        for _ in range(2):
            status, _page = await _change(client, _form("guess-guess"))
            assert status == 422
        status, page = await _change(client, _form(person.password))
        assert status == 429
        assert "Too many log-in attempts" in page
    finally:
        await client.close()  # while `db` is still open
