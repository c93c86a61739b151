"""The federation policy page's small forms keep what was typed when refused (issue 14):
the allow-list entry, a blocklist subscription (hours out of range or not a number) and a
pasted list that cannot be read (a stray NUL). Through the real web app, as a browser does."""

from __future__ import annotations

import html
import re

from aiohttp import ClientResponse

from kizuna.container import Services
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, input_value, log_in, make_user, submit


async def _admin(make_client: ClientFactory, services: Services) -> Client:
    client = await make_client()
    await log_in(client, await make_user(services, "hanako", role="admin"))
    return client


async def _refused(response: ClientResponse) -> str:
    page = await response.text()
    assert response.status == 422, page
    assert 'action="/admin/domains/allow"' in page  # the policy page, not an error page
    return html.unescape(page)


async def test_allow_refused__domain_and_comment_come_back(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await _admin(make_client, services)
    fields = {"domain": "not a domain!", "comment": "友達のサーバー"}

    page = await _refused(await submit(admin, "/admin/domains/allow", fields, form_page="/"))

    assert 'class="error"' in page
    assert input_value(page, "allow-domain") == "not a domain!"
    assert input_value(page, "allow-comment") == "友達のサーバー"


async def test_subscription_refused__url_and_hours_come_back(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await _admin(make_client, services)
    url = "https://lists.example/blocks.csv"

    bad_hours = await _refused(
        await submit(
            admin, "/admin/blocklists", {"url": url, "refresh_hours": "daily"}, form_page="/"
        )
    )
    too_often = await _refused(
        await submit(admin, "/admin/blocklists", {"url": url, "refresh_hours": "0"}, form_page="/")
    )

    for page, hours in ((bad_hours, "daily"), (too_often, "0")):
        assert "refresh every 1 to 720 hours" in page
        assert input_value(page, "list-url") == url
        assert input_value(page, "list-hours") == hours


async def test_pasted_list_refused__the_text_comes_back(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await _admin(make_client, services)
    text = "#domain,#severity\nspam.example,suspend\nnul\x00.example,silence"  # a bad paste

    page = await _refused(
        await submit(admin, "/admin/domains/import", {"text": text}, form_page="/")
    )

    assert "the list is not text (it contains NUL bytes)" in page
    match = re.search(r'<textarea id="import-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert match
    assert match.group(1).strip() == text.strip()
