"""The reactions collection lists each received reaction as the type it came in as."""

from __future__ import annotations

import copy

from kizuna.container import Services
from kizuna.storage.models import Post
from tests.integration.receive import receive
from tests.integration.test_peer_payloads import kizuna_example, payload, rows

__all__ = ["kizuna_example"]  # the fixture


async def test_emoji_react_stays_emoji_react_and_like_stays_like(
    kizuna_example: Services,
) -> None:
    fire = copy.deepcopy(payload("akkoma-emojireact"))
    fire.update(content="🔥", id="https://akkoma.example/activities/fire")
    del fire["tag"]
    misskey = payload("misskey-like-reaction")
    processed = await receive(kizuna_example, misskey, fire)
    assert [r.error for r in processed] == [None, None]
    (post,) = await rows(kizuna_example, Post)
    doc = await kizuna_example.documents.emoji_reactions("bob", post.id)
    items = {item["id"]: item for item in doc["orderedItems"]}
    assert items[fire["id"]]["type"] == "EmojiReact"
    assert items[fire["id"]]["content"] == "🔥"
    assert items[fire["id"]]["actor"] == fire["actor"]
    assert items[misskey["id"]]["type"] == "Like"
    assert items[misskey["id"]]["content"] == misskey["_misskey_reaction"]
