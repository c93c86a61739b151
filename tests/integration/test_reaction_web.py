"""Emoji reactions through the web UI on one instance: the bar under each post, the picker
(palette and search page), the limit, who reacted, custom emoji, the JSON and the grouped
notifications."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from sqlalchemy import event

from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Post, Reaction
from tests.integration.conftest import ClientFactory
from tests.integration.test_profile import tiny_png
from tests.integration.web import (
    Client,
    Person,
    csrf_token,
    log_in,
    logged_in,
    make_user,
    stored_account,
)

FAVOURITE = "Mastodon readers see a favourite"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


# -- helpers ------------------------------------------------------------------------------


async def _bob_post(services: Services, text: str = "桜が咲いた", **kwargs: Any) -> Post:
    await make_user(services, "bob")
    return await services.posts.create(await stored_account(services, "bob"), text, **kwargs)


async def _react(
    client: Client, post_id: int, emoji: str, *, action: str = "react", back: str = "/public"
) -> ClientResponse:
    """Press a reaction button on the page `back` (sent as the Referer, as browsers do)."""
    return await client.post(
        f"/posts/{post_id}/{action}",
        data={"emoji": emoji, "csrf_token": await csrf_token(client, "/")},
        headers={"Referer": str(client.make_url(back))},
        allow_redirects=False,
    )


async def _page(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, path
    return await response.text()


def _reaction_buttons(page: str, post_id: int) -> dict[str, dict[str, str]]:
    """The bar's buttons for a post, by emoji: their attributes (formaction, title…)."""
    found: dict[str, dict[str, str]] = {}
    pattern = (
        r'<button type="submit" name="emoji" value="([^"]*)" '
        rf'([^>]*formaction="/posts/{post_id}/[a-z]+"[^>]*)>(.*?)</button>'
    )
    for value, attributes, body in re.findall(pattern, page, re.S):
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', attributes))
        attrs["body"] = body
        found.setdefault(html.unescape(value), attrs)  # the bar comes before the palette
    return found


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


async def _fans(services: Services, post: Post, emoji: str, count: int) -> None:
    """`count` accounts of b.test reacted `emoji` (rows written as the inbox would)."""
    async with services.db.begin() as session:
        for index in range(count):
            fan = Account(
                username=f"fan{index}",
                username_key=f"fan{index}",
                domain="b.test",
                uri=f"http://b.test/users/fan{index}",
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(fan)
            await session.flush()
            session.add(
                Reaction(
                    id=new_id(), account_id=fan.id, post_id=post.id, emoji=emoji, created_at=NOW
                )
            )


@contextmanager
def _reaction_queries(services: Services) -> Iterator[list[str]]:
    """The SQL statements that read the reactions table while inside."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "reactions" in statement:
            seen.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# -- the bar and the palette --------------------------------------------------------------


async def test_palette_react_then_count_pressed_then_toggle_off(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services)
    alice = await logged_in(make_client, services, "alice")

    before = await _page(alice, "/public")
    assert "<summary>React</summary>" in before
    palette = _reaction_buttons(before, post.id)
    assert list(palette) == ["👍", "❤️", "😆", "🎉", "😮", "😢", "🙏", "👀"]
    assert palette["👍"]["formaction"] == f"/posts/{post.id}/react"
    assert palette["👍"]["aria-pressed"] == "false"
    assert palette["👍"]["title"] == FAVOURITE
    assert palette["😢"]["title"].startswith("not sent to Mastodon-like servers")
    assert 'action="/emoji/search"' in before
    assert f'name="post" value="{post.id}"' in before

    response = await _react(alice, post.id, "👍")
    assert response.status == 303
    assert response.headers["Location"] == "/public"  # back where the button was

    after = _reaction_buttons(await _page(alice, "/public"), post.id)
    assert after["👍"]["aria-pressed"] == "true"
    assert after["👍"]["formaction"] == f"/posts/{post.id}/unreact"
    assert after["👍"]["title"] == "alice"
    assert after["👍"]["body"] == '👍 <span class="count">1</span>'

    assert (await _react(alice, post.id, "👍", action="unreact")).status == 303
    gone = _reaction_buttons(await _page(alice, "/public"), post.id)
    assert gone["👍"]["aria-pressed"] == "false"  # only the palette's again
    assert "count" not in gone["👍"]["body"]


async def test_three_reactions_then_a_fourth_is_refused_but_a_like_is_not(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services)
    alice = await logged_in(make_client, services, "alice")
    for emoji in ("👍", "🎉", "😮"):
        assert (await _react(alice, post.id, emoji)).status == 303

    refused = await _react(alice, post.id, "😢")
    assert refused.status == 303  # back to the page, saying why
    back = await alice.get(refused.headers["Location"])
    assert "You can give up to 3 different reactions" in html.unescape(await back.text())

    like = await alice.post(
        f"/posts/{post.id}/like",
        data={"csrf_token": await csrf_token(alice, "/")},
        allow_redirects=False,
    )
    assert like.status == 303
    page = await _page(alice, f"/@bob/{post.id}")
    assert 'Like <span class="count">1</span>' in page  # the plain like counts apart
    pressed = {
        e for e, a in _reaction_buttons(page, post.id).items() if a["aria-pressed"] == "true"
    }
    assert pressed == {"👍", "🎉", "😮"}

    assert (await _react(alice, post.id, "🎉", action="unreact")).status == 303
    assert (await _react(alice, post.id, "😢")).status == 303  # room again


async def test_invalid_emoji_and_invisible_post(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services)
    secret = await services.posts.create(
        await stored_account(services, "bob"), "followers only", visibility="private"
    )
    alice = await logged_in(make_client, services, "alice")

    bad = await _react(alice, post.id, "not an emoji")
    assert bad.status == 422
    assert "a reaction is one emoji" in await bad.text()
    assert (await _react(alice, secret.id, "👍")).status == 404
    unknown = await _react(alice, post.id, ":nosuchemoji:")
    assert unknown.status == 422
    assert "there is no custom emoji :nosuchemoji: here" in await unknown.text()


async def test_who_reacted_title_and_reader_withoutstored_account(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services)
    alice = await logged_in(make_client, services, "alice")
    await _react(alice, post.id, "🎉")
    await services.reactions.react(await stored_account(services, "bob"), post.id, "🎉")
    await _fans(services, post, "🎉", 10)  # twelve in all: the first ten are named

    page = await _page(alice, f"/@bob/{post.id}")
    party = _reaction_buttons(page, post.id)["🎉"]
    fans = ", ".join(f"fan{i}@b.test" for i in range(8))
    assert party["title"] == f"alice, bob, {fans} and 2 more"
    assert party["body"] == '🎉 <span class="count">12</span>'
    assert _reaction_buttons(page, post.id)["👀"]["body"] == "👀"  # the palette's

    anonymous = await make_client()
    seen = await _page(anonymous, f"/@bob/{post.id}")
    assert f'/posts/{post.id}/react"' not in seen
    assert "<summary>React</summary>" not in seen
    title = f"alice, bob, {fans} and 2 more"
    assert f'<span class="reaction" title="{title}">🎉 <span class="count">12</span>' in seen


async def test_reactions_on_every_kind_of_page_with_one_query_per_page(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services, "in the open")
    alice = await logged_in(make_client, services, "alice")
    alice_account = await stored_account(services, "alice")
    group = await services.communities.create(alice_account, NewCommunity(slug="cats", name="Cats"))
    pinned = await services.communities.post(alice_account, "cats", "pinned thread")
    thread = await services.communities.post(alice_account, "cats", "plain thread")
    await services.moderation.pin(group.id, alice_account, pinned.id, pinned=True)
    await services.interactions.boost(alice_account, post.id)
    for target in (post, pinned, thread):
        await _react(alice, target.id, "🙏")
    expected = '🙏 <span class="count">1</span>'

    for path, target in (
        ("/", post),  # home: alice's own boost of it
        ("/public", post),
        ("/@bob", post),
        ("/@alice", post),  # the boost card shows (and reacts to) the original
        (f"/@bob/{post.id}", post),
        ("/c/cats", pinned),
        ("/c/cats", thread),
    ):
        page = await _page(alice, path)
        assert _reaction_buttons(page, target.id)["🙏"]["body"] == expected, (path, target.id)

    # One summary per page, however many posts it shows.
    for i in range(6):
        await services.posts.create(alice_account, f"more {i}")
    with _reaction_queries(services) as few:
        await _page(alice, "/public")
    for i in range(6):
        extra = await services.posts.create(alice_account, f"even more {i}")
        await services.reactions.react(alice_account, extra.id, "👀")
    with _reaction_queries(services) as many:
        await _page(alice, "/public")
    assert len(many) == len(few)


# -- custom emoji, search, JSON, notifications --------------------------------------------


async def test_custom_emoji_from_the_search_page_shown_as_image(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services)
    emoji = await services.custom_emoji.upload("blobcat", tiny_png(), category="cats")
    await services.custom_emoji.upload("secretcat", tiny_png(), local_only=True)
    alice = await logged_in(make_client, services, "alice")

    found = await _page(alice, f"/emoji/search?q=cat&post={post.id}")
    results = _reaction_buttons(found, post.id)
    assert results[":blobcat:"]["title"] == FAVOURITE
    assert f'<img class="emoji" src="/media/{emoji.image_path}" alt=":blobcat:">' in found
    assert results[":secretcat:"]["title"].startswith("only shown on this server")
    assert results["🐱"]["formaction"] == f"/posts/{post.id}/react"
    assert "cat face" in results["🐱"]["body"]

    search_page = f"/emoji/search?q=cat&post={post.id}"
    response = await _react(alice, post.id, ":blobcat:", back=search_page)
    assert response.status == 303
    assert response.headers["Location"] == f"/posts/{post.id}"  # to the post, not the search

    page = await _page(alice, f"/@bob/{post.id}")
    bar = _reaction_buttons(page, post.id)[":blobcat:"]
    assert bar["aria-pressed"] == "true"
    assert bar["body"] == (
        f'<img class="emoji" src="/media/{emoji.image_path}" alt=":blobcat:">'
        ' <span class="count">1</span>'
    )
    again = _reaction_buttons(await _page(alice, search_page), post.id)
    assert again[":blobcat:"]["formaction"] == f"/posts/{post.id}/unreact"


async def test_search_page_by_name_without_a_post(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")

    page = await _page(alice, "/emoji/search?q=thumbs")
    text = _text(page)
    assert "👍 thumbs up sign" in text
    assert "👎 thumbs down sign" in text
    assert "formaction" not in page  # nothing to react to: a list to look at
    nothing = _text(await _page(alice, "/emoji/search?q=zzqx"))
    assert "No emoji named “zzqx”" in nothing
    assert (await alice.get("/emoji/search?q=cat&post=x1")).status == 400
    assert (await alice.get("/emoji/search?q=cat&post=123")).status == 404
    anonymous = await make_client()
    login = await anonymous.get("/emoji/search?q=cat", allow_redirects=False)
    assert login.status == 303


async def test_json_reactions_shape_and_me(make_client: ClientFactory, services: Services) -> None:
    post = await _bob_post(services)
    secret = await services.posts.create(
        await stored_account(services, "bob"), "followers only", visibility="private"
    )
    emoji = await services.custom_emoji.upload("blobcat", tiny_png())
    alice = await logged_in(make_client, services, "alice")
    bob = await stored_account(services, "bob")
    await _react(alice, post.id, "👍")
    await _react(alice, post.id, ":blobcat:")
    await services.reactions.react(bob, post.id, "👍")
    await services.interactions.like(bob, post.id)  # a plain like is no emoji reaction

    response = await alice.get(f"/api/posts/{post.id}/reactions")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {
        "emoji_reactions": [
            {"name": "👍", "count": 2, "me": True, "url": None, "accounts": ["alice", "bob"]},
            {
                "name": ":blobcat:",
                "count": 1,
                "me": True,
                "url": f"http://kizuna.test/media/{emoji.image_path}",
                "accounts": ["alice"],
            },
        ]
    }
    anonymous = await make_client()
    theirs = await (await anonymous.get(f"/api/posts/{post.id}/reactions")).json()
    assert [r["me"] for r in theirs["emoji_reactions"]] == [False, False]

    hidden = await alice.get(f"/api/posts/{secret.id}/reactions")
    assert hidden.status == 404
    assert "error" in await hidden.json()
    assert (await alice.get("/api/posts/1/reactions")).status == 404


async def test_reactions_and_likes_grouped_per_post_in_notifications(
    make_client: ClientFactory, services: Services
) -> None:
    post = await _bob_post(services, "ご飯できたよ")
    other = await services.posts.create(await stored_account(services, "bob"), "別の投稿")
    bob = await make_client()
    await log_in(bob, Person("bob", "pw-bob-long"))
    alice = await logged_in(make_client, services, "alice")
    await _react(alice, post.id, "👍")
    await _react(alice, post.id, "🎉")
    await make_user(services, "carol")
    await make_user(services, "dave")
    await make_user(services, "erin")
    await services.reactions.react(await stored_account(services, "carol"), post.id, "👍")
    await services.posts.create(
        await stored_account(services, "carol"), "いいね", in_reply_to=post.id
    )
    await services.reactions.react(await stored_account(services, "dave"), post.id, "😮")
    await services.interactions.like(await stored_account(services, "erin"), post.id)
    await services.interactions.like(await stored_account(services, "erin"), other.id)

    page = await _page(bob, "/notifications")
    lines = [_text(p) for p in re.findall(r'<p class="notification[^"]*">(.*?)</p>', page, re.S)]
    assert [re.sub(r" \S+$", "", line) for line in lines] == [  # without the time
        "erin liked your post · 別の投稿",
        "erin, dave and 2 others liked or reacted 😮 👍 🎉 to your post · ご飯できたよ",
        "carol replied to you · いいね",
    ]
    assert page.count('class="notification grouped"') == 2
