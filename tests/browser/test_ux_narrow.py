"""Every main page at a phone's width (390x844 CSS px, an iPhone 12-15) in headless
Chromium: nothing may make the page scroll sideways (it did on /admin/domains: a six-column
table of policies)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, async_playwright

from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from kizuna.services.domain_policy import PolicyValues
from kizuna.storage import repo
from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, base_url  # noqa: F401
from tests.fakes.images import png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
    ),
]

# The elements sticking out past the right edge, for the failure message.
WIDE = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
              + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
}"""

LONG_WORD = "https://example.social/" + "a" * 80  # a link with no place to break


@pytest.fixture
async def phone(base_url: str) -> AsyncIterator[Page]:  # noqa: F811
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            base_url=base_url, viewport={"width": 390, "height": 844}, locale="ja-JP"
        )
        yield await context.new_page()
        await browser.close()


async def _content(services: Services) -> dict[str, str]:
    """An admin with a post, a community and a moderated server; the pages to look at."""
    await services.accounts.create_user("hanako", "correct horse battery", role="admin")
    await services.accounts.create_user("taro", "correct horse battery")
    async with services.db.begin() as session:
        hanako = await repo.get_account_by_username(session, "hanako", "")
        taro = await repo.get_account_by_username(session, "taro", "")
    assert hanako is not None
    assert taro is not None
    post = await services.posts.create(hanako, f"長い名前のサーバー {LONG_WORD} #絆")
    reply = await services.posts.create(taro, f"@hanako {LONG_WORD}", in_reply_to=post.id)
    report = await services.reports.create(
        hanako, taro.id, post_ids=[reply.id], category="spam", comment="宣伝 " + LONG_WORD
    )
    await services.custom_emoji.upload("blobcat_with_a_rather_long_name", png(), category="猫")
    await services.communities.create(
        hanako, NewCommunity(slug="gardening", name="庭いじり Gardening", rules="Be kind")
    )
    policy = PolicyValues(
        severity="suspend",
        reject_media=True,
        reject_reports=True,
        public_comment="スパムの波 " + LONG_WORD,
        private_comment="reported many times",
    )
    await services.domain_policy.set_policy(None, "spam-and-more-spam.example", policy)
    return {
        "home": "/",
        "local": "/public",
        "post": f"/@hanako/{post.id}",
        "edit post": f"/posts/{post.id}/edit",
        "report form": f"/report?account={taro.id}&post={reply.id}",
        "warnings": "/warnings",
        "profile": "/@hanako",
        "notifications": "/notifications",
        "search": "/search",
        "settings": "/settings/profile",
        "feed settings": "/settings/feed",
        "blocks": "/settings/blocks",
        "follow requests": "/follow_requests",
        "communities": "/communities",
        "new community": "/communities/new",
        "community": "/c/gardening",
        "community moderation": "/c/gardening/moderation",
        "community settings": "/c/gardening/settings",
        "admin": "/admin",
        "admin domains": "/admin/domains",
        "admin accounts": "/admin/accounts",
        "admin reports": "/admin/reports",
        "admin report": f"/admin/reports/{report.id}",
        "admin account": f"/admin/accounts/{taro.id}",
        "admin audit": "/admin/audit",
        "admin federation": "/admin/federation",
        "admin emoji": "/admin/emoji",
        "emoji search": "/emoji/search",
        "about": "/about",
    }


async def test_every_page_fits_390px_without_sideways_scroll(
    phone: Page, services: Services
) -> None:
    pages = await _content(services)
    await phone.goto("/login")
    outside = {name: await phone.evaluate(WIDE) for name in ("login",)}
    await phone.goto("/signup")
    outside["signup"] = await phone.evaluate(WIDE)
    await phone.goto("/login")
    await phone.get_by_label("User name").fill("hanako")
    await phone.get_by_label("Password").fill("correct horse battery")
    await phone.get_by_role("button", name="Log in").click()
    await phone.wait_for_url("**/")
    for name, path in pages.items():
        response = await phone.goto(path)
        assert response is not None
        assert response.status == 200, (name, path, response.status)
        outside[name] = await phone.evaluate(WIDE)
    wide = {name: elements for name, elements in outside.items() if elements}
    assert not wide, "\n".join(f"{name}: {', '.join(elements)}" for name, elements in wide.items())
