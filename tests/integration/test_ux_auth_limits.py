"""Too many log-in, sign-up or password attempts (the per-address and per-account limits)
bring the form back with the 429 and its Retry-After, keeping what was typed except the
passwords and saying when to try again, instead of a bare error page."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from aiohttp import ClientResponse

from kizuna.config import Config
from kizuna.container import Services
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, input_value, log_in, make_user, submit, textarea_text

SECRET = "s3cret-typed-password"


@pytest.fixture
def config(config: Config) -> Config:
    # One log-in per 5 minutes and one sign-up per hour: the second attempt is refused.
    return replace(config, rate_login=1, rate_signup=1)


async def _limited_page(response: ClientResponse) -> str:
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"])
    assert response.content_type == "text/html"
    page = await response.text()
    assert SECRET not in page  # passwords are never echoed
    return html.unescape(page)


async def test_login_limited__the_form_keeps_the_name_and_says_when(
    make_client: ClientFactory, services: Services
) -> None:
    browser = await make_client()
    await make_user(services, "alice")
    fields = {"username": "alice", "password": SECRET, "next": "/settings/profile"}
    first = await submit(browser, "/login", fields)
    assert first.status == 422  # a wrong password, counted

    page = await _limited_page(await submit(browser, "/login", fields))

    assert 'action="/login"' in page
    assert input_value(page, "login-username") == "alice"
    assert 'name="next" value="/settings/profile"' in page
    assert (
        "Too many log-in attempts from your address. Try again in 5 minutes." in page
    )  # 300 s for one attempt


async def test_signup_limited__the_form_keeps_name_and_reason_not_passwords(
    make_client: ClientFactory, services: Services
) -> None:
    await services.settings.set_registrations("approval")
    browser = await make_client()
    fields = {
        "username": "kaori",
        "password": SECRET,
        "password_confirm": SECRET,
        "reason": "庭の話をしたい",
    }
    first = await submit(browser, "/signup", fields, form_page="/signup")
    assert first.status == 200  # waits for approval; the attempt counted

    fields["username"] = "kaori2"
    page = await _limited_page(await submit(browser, "/signup", fields, form_page="/signup"))

    assert 'action="/signup"' in page
    assert input_value(page, "signup-username") == "kaori2"
    assert textarea_text(page, "signup-reason") == "庭の話をしたい"
    assert "Too many sign-up attempts from your address. Try again in 60 minutes." in page
    assert all(u.account.username != "kaori2" for u in await services.accounts.list_users())


async def test_signup_refused__the_reason_is_kept(
    make_client: ClientFactory, services: Services
) -> None:
    await services.settings.set_registrations("approval")
    browser = await make_client()
    fields = {
        "username": "kaori",
        "password": SECRET,
        "password_confirm": "another-password",
        "reason": "庭の話をしたい",
    }
    response = await submit(browser, "/signup", fields, form_page="/signup")
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "the two passwords differ" in page
    assert input_value(page, "signup-username") == "kaori"
    assert textarea_text(page, "signup-reason") == "庭の話をしたい"
    assert SECRET not in page


async def _change_password(client: Client) -> ClientResponse:
    fields = {"current_password": SECRET, "new_password": SECRET, "new_password_confirm": SECRET}
    return await submit(client, "/settings/password", fields, form_page="/settings/password")


async def test_password_change_limited__the_page_comes_back_with_nothing_secret(
    make_client: ClientFactory, services: Services
) -> None:
    browser = await make_client()
    await log_in(browser, await make_user(services, "alice"))  # the address's one attempt

    page = await _limited_page(await _change_password(browser))

    assert 'action="/settings/password"' in page
    assert 'href="/@alice">Profile</a>' in page  # still logged in, on the settings page
    assert "Too many log-in attempts from your address. Try again in 5 minutes." in page
    assert not re.search(r'type="password"[^>]*value=', page)
