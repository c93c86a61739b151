"""The viewer's CSRF token goes only into the CSRF fields of a cached card, never into the
URLs and text another server wrote, even when they hold the string the cache once replaced
(or the marker it uses now); the forms of a card served from the cache still pass CSRF."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from kizuna.storage import repo
from kizuna.storage.models import Follow
from kizuna.web.card_cache import TOKEN_MARKER
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.sse import open_stream
from tests.integration.web import log_in, make_user

OLD_PLACEHOLDER = "card-csrf-token-placeholder"  # what the cache used to replace
CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([0-9a-f]+)">')


class Planting(FakeMastodon):
    """A peer whose avatar URL holds the old placeholder."""

    def actor(self) -> dict[str, Any]:
        doc = super().actor()
        doc["icon"] = {"type": "Image", "url": f"https://m.test/avatar/{OLD_PLACEHOLDER}.png"}
        return doc


def note(peer: FakeMastodon, number: int, planted: str) -> dict[str, Any]:
    note_id = f"{peer.actor_id}/statuses/{number}"
    link = f"https://m.test/read?t={planted}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": peer.actor_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": peer.actor_id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "content": f'<p>number {number} <a href="{link}">{link}</a> {planted}</p>',
            "published": "2026-01-01T00:00:00Z",
        },
    }


async def deliver(b: Instance, peer: FakeMastodon, doc: dict[str, Any]) -> None:
    body = json.dumps(doc).encode()
    headers = peer.sign("https://b.test/inbox", body)
    assert (await b.browser.post("/inbox", data=body, headers=headers)).status == 202


class Urls(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("href", "src", "action", "formaction")]


def token_only_in_fields(page: str) -> str:
    """The page's CSRF token, after checking it is nowhere but in CSRF fields."""
    tokens = set(CSRF_FIELD.findall(page))
    assert len(tokens) == 1, tokens
    token: str = tokens.pop()
    assert page.count(token) == len(CSRF_FIELD.findall(page))
    assert not [url for url in Urls(page).urls if token in url]
    return token


async def test_token_never_lands_in_remote_urls_and_cached_forms_work(network: Network) -> None:
    b = await network.start("b.test")
    alice = await make_user(b.services, "alice")
    peer = Planting("m.test")
    await network.serve("m.test", peer.app)
    await deliver(b, peer, peer.follow("https://b.test/users/alice"))
    await network.drain()
    async with b.services.db.begin() as session:
        me = await repo.get_account_by_username(session, "alice")
        author = await repo.get_account_by_uri(session, peer.actor_id)
        assert me is not None
        assert author is not None
        now = datetime.now(UTC)
        session.add(Follow(account_id=me.id, target_account_id=author.id, created_at=now))
    await log_in(b.browser, alice)

    stream = await open_stream(b.browser, "/live/home")
    await deliver(b, peer, note(peer, 1, OLD_PLACEHOLDER))
    await deliver(b, peer, note(peer, 2, TOKEN_MARKER))
    await network.drain()
    live = [event.data["html"] for event in await stream.posts(2)]
    stream.close()
    async with b.services.db.begin() as session:
        first = await repo.get_post_by_uri(session, f"{peer.actor_id}/statuses/1")
        second = await repo.get_post_by_uri(session, f"{peer.actor_id}/statuses/2")
        assert first is not None
        assert second is not None

    pages = [await (await b.browser.get(path)).text() for path in ("/", "/", f"/@{author.acct}")]
    for page in pages:
        assert f'data-post-id="{first.id}"' in page
        assert f'data-post-id="{second.id}"' in page
        assert f"avatar/{OLD_PLACEHOLDER}.png" in page  # the URLs kept as the peer wrote them
        assert f"read?t={OLD_PLACEHOLDER}" in page
        assert f"read?t={TOKEN_MARKER}" in page
    tokens = {token_only_in_fields(page) for page in pages}
    assert len(tokens) == 1
    for card in live:
        assert not any(token in url for url in Urls(card).urls for token in tokens)

    # A like from the cached card of the first post: its form's token passes CSRF.
    page = pages[1]
    start = page.index(f'data-post-id="{first.id}"')
    card = page[start : page.index("</article>", start)]
    form = re.search(
        rf'action="/posts/{first.id}/like".*?name="csrf_token" value="([0-9a-f]+)"', card, re.S
    )
    assert form is not None
    response = await b.browser.post(
        f"/posts/{first.id}/like", data={"csrf_token": form.group(1)}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    liked = await (await b.browser.get("/")).text()
    start = liked.index(f'data-post-id="{first.id}"')
    assert 'aria-pressed="true"' in liked[start : liked.index("</article>", start)]
