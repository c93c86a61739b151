"""Reactions as Misskey, Akkoma and Mastodon send them (tests/data/peers/), into exact counts."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import update

from kizuna.container import Services
from kizuna.storage.models import InboxActivity, Notification, Post, Reaction
from tests.integration.receive import receive
from tests.integration.test_peer_payloads import NOTE, kizuna_example, payload, rows

__all__ = ["kizuna_example"]  # the fixture, shared with the other payload tests

MISSKEY = "https://misskey.example/users/9abcd1234"
AKKOMA = "https://akkoma.example/users/carol"


def _react(actor: str, number: int, content: str, kind: str = "Like") -> dict[str, Any]:
    doc = {"id": f"{actor}/reactions/{number}", "type": kind, "actor": actor, "object": NOTE}
    if content:
        doc["content"] = content
    return doc


async def _emoji(services: Services) -> list[tuple[str, str]]:
    found = [(r.emoji, r.uri or "") for r in await rows(services, Reaction)]
    return sorted(found)


async def _errors(services: Services) -> list[str]:
    return [r.error or "" for r in await rows(services, InboxActivity) if r.error]


async def test_misskey_akkoma_and_mastodon_reactions_count_once_each(
    kizuna_example: Services,
) -> None:
    misskey = payload("misskey-like-reaction")
    akkoma_fire = copy.deepcopy(payload("akkoma-emojireact"))
    akkoma_fire.update(content="🔥", id="https://akkoma.example/activities/fire")
    del akkoma_fire["tag"]
    await receive(kizuna_example, misskey, akkoma_fire, payload("mastodon-like"))
    assert await _errors(kizuna_example) == []
    assert [e for e, _ in await _emoji(kizuna_example)] == ["", "👍", "🔥"]
    kinds = sorted((n.kind, n.emoji) for n in await rows(kizuna_example, Notification))
    assert kinds == [("like", ""), ("reaction", "👍"), ("reaction", "🔥")]

    # The same reaction again in Akkoma's form (a re-sent activity id stops at the inbox
    # door already: test_inbox.py): nothing more.
    as_emoji_react = _react(MISSKEY, 2, "👍", kind="EmojiReact")
    await receive(kizuna_example, as_emoji_react)
    assert [e for e, _ in await _emoji(kizuna_example)] == ["", "👍", "🔥"]

    undo = {
        "id": "https://akkoma.example/activities/undo-fire",
        "type": "Undo",
        "actor": AKKOMA,
        "object": akkoma_fire,
    }
    await receive(kizuna_example, undo)
    assert [e for e, _ in await _emoji(kizuna_example)] == ["", "👍"]


async def test_bad_reactions_are_refused_and_counts_stay_exact(
    kizuna_example: Services,
) -> None:
    flood = [_react(MISSKEY, n, e) for n, e in enumerate("😀😃😄😁😆😅😂🤣😊😇🙂", start=10)]
    not_emoji = _react(MISSKEY, 40, "hello")
    two_emoji = _react(MISSKEY, 41, "👍👍")
    unknown_post = _react(AKKOMA, 42, "👍") | {"object": "https://kizuna.example/notes/nope"}
    no_tag = _react(AKKOMA, 43, ":not_ours:", kind="EmojiReact")
    rows_after = await receive(kizuna_example, *flood, not_emoji, two_emoji, unknown_post, no_tag)
    by_id = {r.activity_id: r for r in rows_after}
    assert len([r for r in await rows(kizuna_example, Reaction)]) == 10
    assert "10 reactions on this post already" in (by_id[flood[-1]["id"]].error or "")
    assert "not one emoji" in (by_id[not_emoji["id"]].error or "")
    assert "not one emoji" in (by_id[two_emoji["id"]].error or "")
    assert "no post" in (by_id[unknown_post["id"]].error or "")
    assert "without its Emoji tag" in (by_id[no_tag["id"]].error or "")
    assert all(r.processed_at is not None for r in rows_after)  # refused for good


async def test_a_reaction_to_a_post_the_actor_cannot_see_is_refused(
    kizuna_example: Services,
) -> None:
    async with kizuna_example.db.begin() as session:
        await session.execute(update(Post).where(Post.uri == NOTE).values(visibility="private"))
    (row,) = await receive(kizuna_example, _react(AKKOMA, 1, "👀"))
    assert "can see" in (row.error or "")
    assert await rows(kizuna_example, Reaction) == []
