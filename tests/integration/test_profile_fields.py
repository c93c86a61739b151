"""Profile fields and header image: edited in settings, published as PropertyValue/Image."""

from __future__ import annotations

import aiohttp

from kizuna.container import Services
from tests.integration.conftest import ClientFactory
from tests.integration.test_profile import tiny_png
from tests.integration.web import csrf_token, log_in, make_user


async def test_fields_and_header_then_in_actor_document(
    make_client: ClientFactory, services: Services
) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, "/settings/profile"))
    form.add_field("display_name", "Alice")
    form.add_field("note", "")
    form.add_field("field_name_0", "Website")
    form.add_field("field_value_0", "https://alice.example/blog")
    form.add_field("field_name_1", "好きなもの")
    form.add_field("field_value_1", "<b>猫</b>")
    form.add_field("header", tiny_png(), filename="h.png", content_type="image/png")
    response = await client.post("/settings/profile", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()

    actor = await (
        await client.get("/users/alice", headers={"Accept": "application/activity+json"})
    ).json(content_type=None)
    website, likes = actor["attachment"]
    assert website["type"] == "PropertyValue"
    assert website["name"] == "Website"
    assert website["value"].startswith('<a href="https://alice.example/blog"')
    assert likes == {
        "type": "PropertyValue",
        "name": "好きなもの",
        "value": "&lt;b&gt;猫&lt;/b&gt;",
    }
    assert actor["image"]["mediaType"] == "image/png"
    assert actor["image"]["url"].startswith("http://kizuna.test/media/headers/")
    settings_page = await (await client.get("/settings/profile")).text()
    assert 'value="https://alice.example/blog"' in settings_page
    profile_page = await (await client.get("/@alice")).text()
    assert "<dt>好きなもの</dt>" in profile_page


async def test_fields__label_missing_is_422(make_client: ClientFactory, services: Services) -> None:
    client = await make_client()
    await log_in(client, await make_user(services, "alice"))
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, "/settings/profile"))
    form.add_field("field_value_0", "value without a label")
    response = await client.post("/settings/profile", data=form, allow_redirects=False)
    assert response.status == 422
    assert "each profile field needs a label" in await response.text()
