"""Sign-up modes, log-in, sessions, CSRF and admin approval through the web UI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kizuna.container import Services
from kizuna.errors import ConflictError
from kizuna.storage.models import Account, LoginSession, User
from tests.integration.conftest import ClientFactory
from tests.integration.web import Person, csrf_token, log_in, make_user, submit


def _signup_form(
    name: str, password: str = "correct horse", confirm: str | None = None
) -> dict[str, str]:
    return {"username": name, "password": password, "password_confirm": confirm or password}


async def _counts(services: Services) -> tuple[int, int]:
    async with services.db.begin() as session:
        people = select(func.count()).where(Account.actor_type != "Application")
        accounts = await session.scalar(people)
        users = await session.scalar(select(func.count()).select_from(User))
    return int(accounts or 0), int(users or 0)


async def test_signup_open_then_logged_in(make_client: ClientFactory, services: Services) -> None:
    await services.settings.set_registrations("open")
    client = await make_client()
    response = await submit(client, "/signup", _signup_form("Hanako"), form_page="/signup")
    assert response.status == 303
    cookie = response.cookies["kizuna_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    home = await (await client.get("/")).text()
    assert 'href="/@Hanako"' in home


async def test_signup__duplicate_name_case_insensitive_is_409_and_nothing_written(
    make_client: ClientFactory, services: Services
) -> None:
    await services.settings.set_registrations("open")
    await make_user(services, "hanako")
    before = await _counts(services)
    client = await make_client()
    response = await submit(client, "/signup", _signup_form("HANAKO"), form_page="/signup")
    assert response.status == 409
    assert "already taken" in await response.text()
    assert await _counts(services) == before


async def test_create_user__race_on_same_name_leaves_one_account(services: Services) -> None:
    await services.accounts.create_user("taro", "password-one")
    with pytest.raises(ConflictError):
        await services.accounts.create_user("Taro", "password-two")
    assert await _counts(services) == (1, 1)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_signup_form("bad name!"), "user names are 1-30 letters"),
        (_signup_form("x" * 31), "user names are 1-30 letters"),
        (_signup_form("admin_ok", "short"), "passwords are 8 to 128 characters"),
        (_signup_form("admin_ok", "password-a", "password-b"), "the two passwords differ"),
        (_signup_form("settings"), "reserved"),
    ],
)
async def test_signup__bad_fields_are_422_with_message(
    make_client: ClientFactory, services: Services, form: dict[str, str], message: str
) -> None:
    await services.settings.set_registrations("open")
    client = await make_client()
    response = await submit(client, "/signup", form, form_page="/signup")
    assert response.status == 422
    assert message in await response.text()
    assert await _counts(services) == (0, 0)


async def test_signup__closed_is_403(make_client: ClientFactory, services: Services) -> None:
    await services.settings.set_registrations("closed")
    client = await make_client()
    assert "not accepting new accounts" in await (await client.get("/signup")).text()
    response = await submit(client, "/signup", _signup_form("hanako"), form_page="/login")
    assert response.status == 403
    assert await _counts(services) == (0, 0)


async def test_signup_approval_then_admin_approves_then_login(
    make_client: ClientFactory, services: Services
) -> None:
    await services.settings.set_registrations("approval")
    visitor, admin = await make_client(), await make_client()
    response = await submit(
        visitor, "/signup", {**_signup_form("hanako"), "reason": "地元の友達"}, form_page="/signup"
    )
    assert response.status == 200
    assert "will review your account" in await response.text()
    pending = Person("hanako", "correct horse")
    refused = await submit(visitor, "/login", {"username": "hanako", "password": "correct horse"})
    assert refused.status == 403
    assert "waiting for an administrator" in await refused.text()

    await log_in(admin, await make_user(services, "boss", role="admin"))
    admin_page = await (await admin.get("/admin")).text()
    assert "地元の友達" in admin_page
    (user,) = [u for u in await services.accounts.list_users() if u.account.username == "hanako"]
    response = await submit(admin, f"/admin/users/{user.id}/approve", {}, form_page="/admin")
    assert response.status == 303
    await log_in(visitor, pending)


async def test_admin__reject_pending_frees_the_name(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await make_client()
    await log_in(admin, await make_user(services, "boss", role="admin"))
    user = await services.accounts.create_user("spammer", "password-x", approved=False)
    response = await submit(admin, f"/admin/users/{user.id}/reject", {}, form_page="/admin")
    assert response.status == 303
    assert await _counts(services) == (1, 1)
    await services.accounts.create_user("spammer", "password-y")


async def test_admin__pages_refuse_non_admins(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    assert (await client.get("/admin", allow_redirects=False)).status == 303  # to /login
    await log_in(client, await make_user(services, "pleb"))
    assert (await client.get("/admin")).status == 403
    response = await submit(
        client, "/admin/registrations", {"registrations": "open"}, form_page="/"
    )
    assert response.status == 403
    assert (await services.settings.registrations()).value == "approval"


async def test_login__wrong_password_is_422_and_no_session(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "alice")
    client = await make_client()
    response = await submit(client, "/login", {"username": "alice", "password": "nope-nope"})
    assert response.status == 422
    assert "wrong user name or password" in await response.text()
    assert "kizuna_session" not in response.cookies


async def test_login__next_is_kept_but_never_offsite(
    make_client: ClientFactory, services: Services
) -> None:
    person = await make_user(services, "alice")
    client = await make_client()
    form = {"username": "ALICE", "password": person.password}
    response = await submit(client, "/login", {**form, "next": "/settings/profile"})
    assert response.headers["Location"] == "/settings/profile"
    response = await submit(client, "/login", {**form, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


async def test_logout_then_session_is_gone(make_client: ClientFactory, services: Services) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await submit(client, "/logout", {}, form_page="/")
    assert response.status == 303
    assert (await client.get("/settings/profile", allow_redirects=False)).status == 303
    async with services.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(LoginSession)) == 0


async def test_csrf__missing_or_wrong_token_is_403_and_nothing_posted(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    no_token = await client.post("/posts", data={"content": "forged"}, allow_redirects=False)
    assert no_token.status == 403
    assert "did not come from this site" in await no_token.text()
    wrong = await client.post(
        "/posts", data={"content": "forged", "csrf_token": "0" * 64}, allow_redirects=False
    )
    assert wrong.status == 403
    # A token from another browser's cookie is no good either.
    other = await make_client()
    stolen = await csrf_token(other, "/login")
    response = await client.post(
        "/posts", data={"content": "forged", "csrf_token": stolen}, allow_redirects=False
    )
    assert response.status == 403
    assert "forged" not in await (await client.get("/")).text()


async def test_security_headers_on_pages(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/public")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
