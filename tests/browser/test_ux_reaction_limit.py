"""The reaction past the per-post limit, with JavaScript: the refusal is said under the post,
on the same page, and nothing else changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, async_playwright, expect

from kizuna.container import Services
from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, base_url  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]


@pytest.fixture
async def page(base_url: str) -> AsyncIterator[Page]:  # noqa: F811
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=base_url, locale="ja-JP")
        yield await context.new_page()
        await browser.close()


async def test_fourth_reaction__refused_inline_under_the_post(
    page: Page, services: Services
) -> None:
    bob = await services.accounts.create_user("bob", "password-bob")
    post = await services.posts.create(bob.account, "花火きれい")
    hanako = await services.accounts.create_user("hanako", "correct horse battery")
    for emoji in ("👍", "🎉", "😮"):
        await services.reactions.react(hanako.account, post.id, emoji)
    await page.goto("/login")
    await page.get_by_label("User name").fill("hanako")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()

    await page.goto("/public")
    card = page.locator("article.post").filter(has_text="花火きれい")
    await card.get_by_text("React", exact=True).click()
    await card.locator(".palette").get_by_role("button", name="😢").click()

    alert = card.get_by_role("alert")
    await expect(alert).to_have_text(
        "You can give up to 3 different reactions to a post; take one back to give another."
    )
    assert page.url.endswith("/public")  # the same page, not reloaded or redirected
    await expect(card.locator(".reaction-list .reaction.pressed")).to_have_count(3)
