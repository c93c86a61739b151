"""An admin sets the server's name, description, rules and contact at /admin; /about and
NodeInfo show them; every admin setting change is in the audit log."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from kizuna.container import Services
from kizuna.storage.models import AuditLogEntry, InstanceSetting
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, log_in, make_user, submit

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
FORM = {
    "name": "Tea & Cakes <b>",
    "description": f"A small server.\nSecond paragraph {HOSTILE}",
    "rules": f"Be kind\r\n\r\n  No spam  \r\n{HOSTILE}\r\n",
    "contact_account": "@Admin",
    "contact_email": "staff@kizuna.example",
}


async def _save(client: Client, form: dict[str, str]) -> tuple[int, str]:
    response = await submit(client, "/admin/site", form, form_page="/")
    return response.status, await response.text()


async def _audit(services: Services) -> list[tuple[str, int | None, dict[str, object]]]:
    async with services.db.begin() as session:
        rows = await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))
        return [(e.action, e.account_id, e.data or {}) for e in rows]


async def _settings(services: Services) -> dict[str, str]:
    async with services.db.begin() as session:
        rows = await session.scalars(select(InstanceSetting))
        return {r.key: r.value for r in rows if r.key.startswith("site_")}


async def test_admin_sets_site_then_about_and_nodeinfo_show_it_as_text(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await make_user(services, "admin", role="admin")
    client = await make_client()
    await log_in(client, admin)
    assert 'action="/admin/site"' in await (await client.get("/admin")).text()

    status, _ = await _save(client, FORM)
    assert status == 303

    about = await (await make_client()).get("/about")  # anyone may read it
    page = await about.text()
    assert "<h1>About Tea &amp; Cakes &lt;b&gt;</h1>" in page
    assert "<p>A small server.</p>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "<img src=x" not in page
    rules = re.search(r'<ol class="rules">(.*?)</ol>', page, re.S)
    assert rules is not None
    items = re.findall(r"<li>(.*?)</li>", rules.group(1))
    assert items[:2] == ["Be kind", "No spam"]  # in order, blank lines dropped, trimmed
    assert items[2].startswith("&#34;&gt;&lt;script&gt;")
    assert '<a href="/@admin">@admin</a>' in page
    assert '<a href="mailto:staff@kizuna.example">' in page

    doc = await (await client.get("/nodeinfo/2.1")).json(content_type=None)
    assert doc["metadata"]["nodeName"] == FORM["name"]
    assert doc["metadata"]["nodeDescription"] == FORM["description"]

    (entry,) = await _audit(services)
    assert entry[0] == "settings.site"
    admin_account = (await services.accounts.list_users())[0].account
    assert entry[1] == admin_account.id
    assert entry[2]["after"]["rules"] == ["Be kind", "No spam", HOSTILE]  # type: ignore[index]


async def test_site__moderators_and_users_cannot_set_it(
    make_client: ClientFactory, services: Services
) -> None:
    for role in ("moderator", "user"):
        client = await make_client()
        await log_in(client, await make_user(services, role, role=role))
        status, _ = await _save(client, FORM)
        assert status == 403, role
    anonymous = await make_client()
    response = await submit(anonymous, "/admin/site", FORM, form_page="/login")
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
    assert await _settings(services) == {}
    assert await _audit(services) == []


async def test_site__bad_values_refused_with_the_form_kept(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "admin", role="admin"))
    for change, message in (
        ({"contact_account": "nobody"}, "there is no user named &#39;nobody&#39; here"),
        ({"contact_email": "staff at example"}, "the contact e-mail address is not one"),
        ({"name": "x" * 61}, "the server name is at most 60 characters"),
        ({"rules": "y" * 301}, "each rule is at most 300 characters"),
    ):
        form = {**FORM, **change}
        status, page = await _save(client, form)
        assert status == 422, change
        assert message in page
        for field in ("name", "contact_account", "contact_email"):  # kept as typed
            assert f'name="{field}"' in page
            assert f'value="{escape(form[field])}"' in page, field
    assert await _settings(services) == {}


async def test_registrations_and_authorized_fetch__audit_logged(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "admin", role="admin"))
    admin_id = (await services.accounts.list_users())[0].account.id
    await submit(client, "/admin/registrations", {"registrations": "closed"}, form_page="/")
    await submit(client, "/admin/federation", {"authorized_fetch": "on"}, form_page="/")
    assert await _audit(services) == [
        ("settings.registrations", admin_id, {"before": "approval", "after": "closed"}),
        ("settings.authorized_fetch", admin_id, {"before": False, "after": True}),
    ]
