"""Refused forms come back with what was typed and say the limit (issue 14, "a new user"):
an avatar over the size limit, a post past the raw field cap, the reaction past the
per-post limit, an expired form. Each through the real web app, as a browser sends it."""

from __future__ import annotations

import html
import io
from dataclasses import replace

import aiohttp
import pytest
from yarl import URL

from kizuna.config import Config
from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from tests.fakes.images import png
from tests.integration.conftest import ClientFactory
from tests.integration.web import (
    Client,
    csrf_token,
    log_in,
    logged_in,
    make_user,
    stored_account,
    submit,
    textarea_text,
    write_post,
)

LIMIT = 2 * 1024 * 1024
LONG = "x" * 6000  # past the raw field cap (5,000) that used to refuse the whole request


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, max_upload_bytes=LIMIT)  # the default, as new users have it


def _logged_in(page: str, username: str) -> bool:
    return f'href="/@{username}">Profile</a>' in page and "Log out</button>" in page


# -- images over the limit ----------------------------------------------------------------


async def _profile_form(client: Client, **files: bytes) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, "/settings/profile"))
    form.add_field("display_name", "Kaori 花")
    form.add_field("note", "I grow tomatoes")
    form.add_field("field_name_0", "Garden")
    form.add_field("field_value_0", "https://garden.example")
    for name, data in files.items():
        # A file object, as a browser streams it (raw bytes over 1 MB warn in aiohttp).
        form.add_field(name, io.BytesIO(data), filename=f"{name}.png", content_type="image/png")
    return await client.post("/settings/profile", data=form, allow_redirects=False)


async def test_avatar_over_the_limit__the_form_comes_back_logged_in_with_the_fields(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    photo = png(padding=int(5.2 * 1024 * 1024))
    response = await _profile_form(alice, avatar=photo)
    page = html.unescape(await response.text())
    assert response.status == 413
    assert "The image is 5.2 MB; the limit is 2 MB." in page
    assert "Avatar (PNG, JPEG, GIF or WebP, at most 2 MB)" in page  # said before, too
    assert _logged_in(page, "alice")
    assert 'value="Kaori 花"' in page
    assert textarea_text(page, "profile-note") == "I grow tomatoes"
    assert 'value="https://garden.example"' in page
    assert (await stored_account(services, "alice")).display_name == ""  # nothing saved


async def test_avatar_and_header_each_under_the_limit__both_saved(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    image = png(padding=LIMIT * 3 // 4)  # two of them pass the application's one-image cap
    response = await _profile_form(alice, avatar=image, header=image)
    assert response.status == 303, await response.text()
    account = await stored_account(services, "alice")
    assert account.avatar_path
    assert account.header_path


async def test_upload_past_what_is_read__back_on_the_form_logged_in_saying_the_limit(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    response = await _profile_form(alice, avatar=png(padding=20 * 1024 * 1024))
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/settings/profile"
    page = html.unescape(await (await alice.get(location)).text())
    assert "an image may be at most 2 MB" in page
    assert _logged_in(page, "alice")


async def test_custom_emoji_over_its_limit__the_form_keeps_the_shortcode(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await make_client()
    await log_in(admin, await make_user(services, "kaori", role="admin"))
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(admin, "/admin/emoji"))
    form.add_field("shortcode", "blobcat")
    form.add_field("category", "cats")
    form.add_field("image", png(padding=300 * 1024), filename="b.png", content_type="image/png")
    response = await admin.post("/admin/emoji", data=form, allow_redirects=False)
    page = html.unescape(await response.text())
    assert "The image is 300 KB; a custom emoji is at most 256 KB." in page
    assert 'value="blobcat"' in page
    assert _logged_in(page, "kaori")


# -- posts past the raw field cap ---------------------------------------------------------


async def test_long_post__home_form_comes_back_with_the_text_and_the_limit(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    response = await write_post(alice, LONG, summary="spoilers")
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "a post holds at most 150 characters; this one has 6000" in page
    assert textarea_text(page, "compose-content") == LONG[:5000]  # what is echoed back
    assert 'value="spoilers"' in page
    assert _logged_in(page, "alice")


async def test_very_long_post__refused_uncounted_the_form_keeps_the_first_5000(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    response = await write_post(alice, "y" * 300_000)
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "a post holds at most 150 characters; this one has more than 20,000" in page
    assert textarea_text(page, "compose-content") == "y" * 5000


async def test_long_reply__the_thread_comes_back_with_the_reply_form_filled(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "bob")
    parent = await services.posts.create(await stored_account(services, "bob"), "桜が咲いた")
    alice = await logged_in(make_client, services, "alice")
    response = await submit(
        alice,
        "/posts",
        {"content": "@bob " + LONG, "in_reply_to": str(parent.id), "visibility": "unlisted"},
        form_page="/",
    )
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "at most 150 characters" in page
    assert "桜が咲いた" in page  # the post replied to, not the home page
    assert f'name="in_reply_to" value="{parent.id}"' in page
    assert textarea_text(page, "reply-content") == ("@bob " + LONG)[:5000]


async def test_long_edit__the_edit_form_comes_back_with_the_text(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    post = await services.posts.create(await stored_account(services, "alice"), "first words")
    response = await submit(
        alice, f"/posts/{post.id}/edit", {"content": LONG}, form_page=f"/posts/{post.id}/edit"
    )
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "at most 150 characters; this one has 6000" in page
    assert textarea_text(page, "edit-content") == LONG[:5000]


async def test_long_community_post__the_community_form_comes_back_with_the_text(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    await services.communities.create(
        await stored_account(services, "alice"), NewCommunity(slug="cats", name="Cats")
    )
    response = await submit(alice, "/c/cats/posts", {"content": LONG}, form_page="/c/cats")
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "at most 150 characters; this one has 6000" in page
    assert textarea_text(page, "community-compose") == LONG[:5000]


# -- one reaction too many ----------------------------------------------------------------


async def _react(
    client: Client, post_id: int, emoji: str, **headers: str
) -> aiohttp.ClientResponse:
    return await client.post(
        f"/posts/{post_id}/react",
        data={"emoji": emoji, "csrf_token": await csrf_token(client, "/")},
        headers={"Referer": str(client.make_url("/public")), **headers},
        allow_redirects=False,
    )


async def test_fourth_reaction__back_at_the_post_on_the_same_page_saying_the_limit(
    make_client: ClientFactory, services: Services
) -> None:
    await make_user(services, "bob")
    post = await services.posts.create(await stored_account(services, "bob"), "桜が咲いた")
    alice = await logged_in(make_client, services, "alice")
    for emoji in ("👍", "🎉", "😮"):
        assert (await _react(alice, post.id, emoji)).status == 303

    refused = await _react(alice, post.id, "😢")
    assert refused.status == 303
    location = URL(refused.headers["Location"])
    assert (location.path, location.fragment) == ("/public", f"post-{post.id}")
    page = html.unescape(await (await alice.get(location)).text())
    assert "You can give up to 3 different reactions to a post" in page
    assert f'id="post-{post.id}"' in page
    assert "You can give up" not in await (await alice.get("/public")).text()

    scripted = await _react(alice, post.id, "😢", Accept="application/json")
    assert scripted.status == 422
    assert scripted.content_type == "application/json"
    error = (await scripted.json())["error"]
    assert error.startswith("You can give up to 3 different reactions to a post")


async def test_notice_codes_only__a_link_cannot_put_its_own_words_on_the_page(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    page = await (await alice.get("/public?notice=Your+account+is+suspended")).text()
    assert "suspended" not in page
    assert 'class="error page-notice"' not in page


# -- an expired form ----------------------------------------------------------------------


async def test_expired_form__the_error_page_still_shows_who_is_logged_in(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await logged_in(make_client, services, "alice")
    response = await alice.post(
        "/posts", data={"content": "hi", "csrf_token": "0" * 64}, allow_redirects=False
    )
    assert response.status == 403
    assert _logged_in(await response.text(), "alice")
