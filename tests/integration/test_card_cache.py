"""Post cards rendered once and reused (web.card_cache): never someone else's card."""

from __future__ import annotations

import re

from kizuna.container import Services
from kizuna.services.accounts import ProfileUpdate
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, log_in, make_user

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def card(page: str, post_id: int) -> str:
    start = page.index(f'data-post-id="{post_id}"')
    return page[start : page.index("</article>", start)]


async def home(client: Client) -> str:
    response = await client.get("/")
    assert response.status == 200
    return await response.text()


async def test_each_viewer_gets_their_own_card_and_token(
    make_client: ClientFactory, services: Services
) -> None:
    alice, bob = await make_client(), await make_client()
    await log_in(alice, await make_user(services, "alice"))
    await log_in(bob, await make_user(services, "bob"))
    bob_account = (await services.accounts.list_users())[1].account
    alice_account = (await services.accounts.list_users())[0].account
    await services.follows.follow(alice_account, "bob")
    post = await services.posts.create(bob_account, "the original words")

    seen_by_alice = [await home(alice), await home(alice)]  # the second from the cache
    seen_by_bob = await home(bob)
    for page in seen_by_alice:
        assert "Report" in card(page, post.id)
        assert "/edit" not in card(page, post.id)
        assert set(CSRF_RE.findall(page)) == {CSRF_RE.findall(seen_by_alice[0])[0]}
    assert "/edit" in card(seen_by_bob, post.id)  # the author's own card
    alice_tokens, bob_tokens = (
        set(CSRF_RE.findall(seen_by_alice[0])),
        set(CSRF_RE.findall(seen_by_bob)),
    )
    assert len(alice_tokens) == len(bob_tokens) == 1
    assert alice_tokens != bob_tokens
    assert "card-csrf-token-placeholder" not in seen_by_alice[1]

    await services.interactions.like(alice_account, post.id)
    liked = card(await home(alice), post.id)
    assert 'aria-pressed="true"' in liked
    assert '<span class="count">1</span>' in liked
    bob_sees = card(await home(bob), post.id)
    assert '<span class="count">1</span>' in bob_sees

    await services.posts.edit(post.id, bob_account, "second thoughts")
    assert "second thoughts" in card(await home(alice), post.id)
    await services.accounts.update_profile(
        bob_account.id, ProfileUpdate(display_name="Bobby Tables")
    )
    assert "Bobby Tables" in card(await home(alice), post.id)
