"""Headless Chromium (Debian's, never a downloaded one) drives the real UI end to end."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

from kizuna.app import create_app
from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.engine import Database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def base_url(config: Config, db: Database) -> AsyncIterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(create_app(replace(config, public_url=url), db=db))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield url
    await runner.cleanup()


@pytest.fixture
async def page(base_url: str) -> AsyncIterator[Page]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=base_url, locale="ja-JP")
        yield await context.new_page()
        await browser.close()


async def test_signup_post_limit_follow_then_feed(page: Page, services: Services) -> None:
    await services.settings.set_registrations("open")
    bob = await services.accounts.create_user("bob", "password-bob")
    await services.posts.create(bob.account, "ボブです。よろしく 👋")

    await page.goto("/signup")
    await page.get_by_label("User name").fill("hanako")
    await page.get_by_label("Password", exact=True).fill("correct horse battery")
    await page.get_by_label("Password again").fill("correct horse battery")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("link", name="Profile")).to_be_visible()

    box = page.get_by_label("What's happening?")
    counter = page.locator("#compose-counter")
    post_button = page.get_by_role("button", name="Post")
    await box.fill("桜" * 150 + "🌸")  # 151 as a person counts
    await expect(counter).to_have_text("-1")
    await expect(post_button).to_be_disabled()
    text = "地震速報を見た。みんな無事？" + "👨‍👩‍👧" * 3
    await box.fill(text)
    await expect(counter).to_have_text(str(150 - 17))
    await expect(post_button).to_be_enabled()
    await post_button.click()
    await expect(page.locator("article.post").first).to_contain_text(text)

    await page.goto("/@bob")
    await page.get_by_role("button", name="Follow").click()
    await expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    await page.goto("/")
    feed = page.locator("section.feed")
    await expect(feed).to_contain_text("ボブです。よろしく 👋")
    await expect(feed).to_contain_text(text)


async def test_server_rejects_overlong_post_even_without_javascript(
    page: Page, services: Services
) -> None:
    await services.settings.set_registrations("open")
    await services.accounts.create_user("hanako", "correct horse battery")
    await page.goto("/login")
    await page.get_by_label("User name").fill("hanako")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    # Bypass the disabled button, as a script-less client would.
    await page.get_by_label("What's happening?").fill("a" * 151)
    await page.evaluate("document.querySelector('form.compose').submit()")
    await expect(page.get_by_role("alert")).to_contain_text("at most 150 characters")


async def test_react_from_the_palette_then_take_it_back(page: Page, services: Services) -> None:
    bob = await services.accounts.create_user("bob", "password-bob")
    await services.posts.create(bob.account, "花火きれい")
    await services.accounts.create_user("hanako", "correct horse battery")
    await page.goto("/login")
    await page.get_by_label("User name").fill("hanako")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()

    await page.goto("/public")
    card = page.locator("article.post").filter(has_text="花火きれい")
    party = card.locator(".palette").get_by_role("button", name="🎉")
    await expect(party).to_be_hidden()  # inside the closed "React" disclosure
    await card.get_by_text("React", exact=True).click()
    await expect(party).to_have_attribute("title", "Mastodon readers see a favourite")
    await party.click()

    await expect(page).to_have_url(f"{page.url.split('/public')[0]}/public")
    given = card.locator(".reaction-list").get_by_role("button", name="🎉 1")
    await expect(given).to_have_attribute("aria-pressed", "true")
    await expect(given).to_have_attribute("title", "hanako")
    await given.click()
    await expect(card.locator(".reaction-list")).to_have_count(0)
