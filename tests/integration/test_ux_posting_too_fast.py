"""Posting too fast (the per-user post limit) brings the form back with the text, saying
how long to wait, instead of a page of its own: home, reply and community forms."""

from __future__ import annotations

import html
from dataclasses import replace

import pytest

from kizuna.config import Config
from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from kizuna.storage import repo
from tests.integration.conftest import ClientFactory
from tests.integration.web import log_in, make_user, submit, textarea_text, write_post


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, rate_post=1)  # one post a minute


async def test_second_post_in_a_minute__the_form_keeps_the_text_and_says_when(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await make_client()
    await log_in(alice, await make_user(services, "alice"))
    async with services.db.begin() as session:
        account = await repo.get_account_by_username(session, "alice", "")
    assert account is not None
    await services.communities.create(account, NewCommunity(slug="cats", name="Cats"))
    assert (await write_post(alice, "朝ごはん")).status == 303
    parent = await services.posts.create(account, "parent")

    home = await write_post(alice, "昼ごはんはカレー")
    reply = await submit(
        alice, "/posts", {"content": "@x 返信", "in_reply_to": str(parent.id)}, form_page="/"
    )
    community = await submit(alice, "/c/cats/posts", {"content": "猫"}, form_page="/c/cats")

    for response, textarea, text in (
        (home, "compose-content", "昼ごはんはカレー"),
        (reply, "reply-content", "@x 返信"),
        (community, "community-compose", "猫"),
    ):
        page = html.unescape(await response.text())
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert "You are posting too fast. Try again in" in page
        assert textarea_text(page, textarea) == text
