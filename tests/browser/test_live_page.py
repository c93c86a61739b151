"""A live home page in Chromium: new posts wait behind "N new posts", the count goes up."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from kizuna.container import Services
from tests.browser.test_browser import base_url, page, pytestmark  # noqa: F401  (fixtures)


async def test_new_posts_wait_behind_a_button_and_notifications_count(
    page: Page,  # noqa: F811 (the fixture imported above)
    services: Services,
) -> None:
    hanako = await services.accounts.create_user("hanako", "correct horse battery")
    bob = await services.accounts.create_user("bob", "password-bob")
    await services.follows.follow(hanako.account, "bob")
    await services.posts.create(bob.account, "もう読んだ投稿")
    mine = await services.posts.create(hanako.account, "わたしの投稿")
    await page.goto("/login")
    await page.get_by_label("User name").fill("hanako")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("article.post").first).to_contain_text("わたしの投稿")
    banner = page.locator("[data-live-banner]")
    await expect(banner).to_be_hidden()

    await services.posts.create(bob.account, "地震速報：東京で揺れ")
    await services.posts.create(bob.account, "続報です")
    await expect(banner).to_have_text("2 new posts")
    await expect(page).to_have_title(re.compile(r"^\(2\) Home"))
    # Nothing moved under the reader: the first card is still the one they were reading.
    await expect(page.locator("article.post").first).to_contain_text("わたしの投稿")

    await banner.click()
    await expect(banner).to_be_hidden()
    await expect(page).to_have_title(re.compile(r"^Home"))
    cards = page.locator("article.post")
    await expect(cards.nth(0)).to_contain_text("続報です")
    await expect(cards.nth(1)).to_contain_text("地震速報")
    await expect(cards.nth(2)).to_contain_text("わたしの投稿")

    await services.interactions.like(bob.account, mine.id)
    badge = page.locator("[data-live-badge]")
    await expect(badge).to_have_text("1")
