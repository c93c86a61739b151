"""Posting through the web UI: the 150-character rule, HTML safety, deletion, visibility."""

from __future__ import annotations

import aiohttp
from sqlalchemy import func, select

from kizuna.container import Services
from kizuna.storage.models import Post, PostTag
from tests.integration.conftest import ClientFactory
from tests.integration.web import csrf_token, log_in, make_user, submit, write_post


async def _post_count(services: Services) -> int:
    async with services.db.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)) or 0)


async def test_post_of_150_kanji_then_shown_on_home(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    text = "絆" * 149 + "👨‍👩‍👧‍👦"  # 150 as a person counts: the family emoji is one
    response = await write_post(client, text)
    assert response.status == 303
    home = await (await client.get("/")).text()
    assert text in home


async def test_post__151_characters_rejected_with_message_and_no_row(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await write_post(client, "あ" * 151)
    assert response.status == 422
    body = await response.text()
    assert "at most 150 characters; this one has 151" in body
    assert "あ" * 151 in body  # the draft is kept for the writer to shorten
    assert await _post_count(services) == 0


async def test_post__empty_or_blank_rejected(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    for content in ("", "   \n  "):
        response = await write_post(client, content)
        assert response.status == 422
        assert "cannot be empty" in await response.text()
    assert await _post_count(services) == 0


async def test_post__bad_visibility_is_422_not_500(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    response = await write_post(client, "hello", visibility="everyone")
    assert response.status == 422
    assert await _post_count(services) == 0


async def test_post__hostile_html_is_escaped(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    await write_post(client, '<script>alert(1)</script> "><img src=x onerror=alert(2)>')
    page = await (await client.get("/public")).text()
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_post__mentions_and_hashtags_linked_and_tag_page_lists_it(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await make_user(services, "bob")
    await log_in(client, await make_user(services, "alice"))
    await write_post(client, "@bob 地震情報 #防災 #Tokyo")
    page = await (await client.get("/public")).text()
    assert 'href="http://kizuna.test/@bob" class="u-url mention"' in page
    assert 'href="http://kizuna.test/tags/%E9%98%B2%E7%81%BD"' in page
    async with services.db.begin() as session:
        tags = set((await session.scalars(select(PostTag.tag))).all())
    assert tags == {"防災", "tokyo"}
    tag_page = await (await client.get("/tags/TOKYO")).text()
    assert "地震情報" in tag_page


async def test_delete_own_post_then_gone(make_client: ClientFactory, services: Services) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    await write_post(client, "to be deleted")
    async with services.db.begin() as session:
        post_id = await session.scalar(select(Post.id))
    response = await submit(client, f"/posts/{post_id}/delete", {}, form_page="/")
    assert response.status == 303
    assert (await client.get(f"/@alice/{post_id}")).status == 404
    assert await _post_count(services) == 0


async def test_delete__someone_elses_post_is_403_and_kept(
    make_client: ClientFactory, services: Services
) -> None:
    alice, mallory = await make_client(), await make_client()
    await log_in(alice, await make_user(services, "alice"))
    await log_in(mallory, await make_user(services, "mallory"))
    await write_post(alice, "mine")
    async with services.db.begin() as session:
        post_id = await session.scalar(select(Post.id))
    response = await submit(mallory, f"/posts/{post_id}/delete", {}, form_page="/")
    assert response.status == 403
    assert await _post_count(services) == 1


async def test_post_page__visibility_rules(make_client: ClientFactory, services: Services) -> None:
    alice, bob, carol = await make_client(), await make_client(), await make_client()
    anonymous = await make_client()
    await log_in(alice, await make_user(services, "alice"))
    await log_in(bob, await make_user(services, "bob"))
    await log_in(carol, await make_user(services, "carol"))
    await submit(bob, "/@alice/follow", {}, form_page="/")
    await write_post(alice, "followers only", visibility="private")
    await write_post(alice, "psst @carol", visibility="direct")
    async with services.db.begin() as session:
        rows = (await session.execute(select(Post.content_source, Post.id))).all()
    ids = {content: post_id for content, post_id in rows}
    private, direct = ids["followers only"], ids["psst @carol"]
    assert (await bob.get(f"/@alice/{private}")).status == 200
    assert (await carol.get(f"/@alice/{private}")).status == 404
    assert (await anonymous.get(f"/@alice/{private}")).status == 404
    assert (await carol.get(f"/@alice/{direct}")).status == 200
    assert (await bob.get(f"/@alice/{direct}")).status == 404
    assert (await alice.get(f"/@alice/{direct}")).status == 200
    public_page = await (await anonymous.get("/public")).text()
    assert "followers only" not in public_page
    assert "psst" not in public_page


async def test_post__malformed_fields_are_400_and_nothing_written(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    token = await csrf_token(client, "/")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("content", b"binary", filename="x.bin")  # a file where text belongs
    response = await client.post("/posts", data=form, allow_redirects=False)
    assert response.status == 400
    assert "must be text" in await response.text()
    response = await client.post(
        "/posts", data={"csrf_token": token, "content": "x" * 6000}, allow_redirects=False
    )
    assert response.status == 422  # the form again, with the text (test_ux_form_errors.py)
    assert "at most 150 characters" in await response.text()
    assert (await client.get("/@alice/abc")).status == 404
    assert await _post_count(services) == 0
