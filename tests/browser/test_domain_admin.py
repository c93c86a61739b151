"""The federation-policy admin in headless Chromium: suspend a server through the preview
page, see it listed, and see it on the public About page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

from kizuna.app import create_app
from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.engine import Database
from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]


@pytest.fixture
async def admin_page(config: Config, db: Database) -> AsyncIterator[Page]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(create_app(replace(config, public_url=url), db=db))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=url, locale="ja-JP")
        yield await context.new_page()
        await browser.close()
    await runner.cleanup()


async def test_admin_suspends_a_server_via_the_preview_then_sees_it_on_about(
    admin_page: Page, services: Services
) -> None:
    page = admin_page
    await services.accounts.create_user("hanako", "correct horse battery", role="admin")
    await page.goto("/login")
    await page.get_by_label("User name").fill("hanako")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("link", name="Admin")).to_be_visible()

    await page.goto("/admin")
    await page.get_by_role("link", name="Federation policy").click()
    await expect(page.get_by_role("heading", name="Federation policy", level=1)).to_be_visible()
    await page.locator("#policy-domain").fill("*.Spam.Example")
    await page.get_by_label("Severity").select_option("suspend")
    await page.get_by_label("Public comment (shown on the About page)").fill("スパムの波")
    await page.get_by_role("button", name="Preview").click()

    await expect(page.get_by_role("heading", name="Suspend spam.example?")).to_be_visible()
    await expect(page.locator("#follows-out")).to_contain_text("0")
    confirm = page.get_by_role("button", name="Confirm: suspend spam.example")
    await confirm.click()

    await expect(page).to_have_url(f"{page.url.split('/admin')[0]}/admin/domains")
    row = page.locator("table.domain-policies tr", has_text="spam.example")
    await expect(row).to_contain_text("Suspend")
    await expect(row).to_contain_text("スパムの波")
    await expect(row).to_contain_text("set by hand")

    await page.get_by_role("link", name="About").click()
    moderated = page.locator("table.moderated-servers")
    await expect(moderated).to_contain_text("spam.example")
    await expect(moderated).to_contain_text("Suspended")
    await expect(moderated).to_contain_text("スパムの波")
