"""Remote HTML whose parse would cost seconds of CPU is refused, through the real inbox.

A peer delivers signed activities to an instance: a note whose content is a flood of tags
or nested hundreds deep, a content warning full of unclosed tags, and an Update of its
profile with a bio nested hundreds deep. Each is refused with its reason kept on the inbox
row, and nothing of it is stored; a long post written as real servers write one (20 kB of
paragraphs and links, like a long Akkoma post) is still stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kizuna.storage.models import Account, InboxActivity, Post
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.receive import deliver

ALICE = "https://a.test/users/alice"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def _setup(network: Network) -> tuple[Instance, FakeMastodon]:
    a = await network.start("a.test")
    await a.services.accounts.create_user("alice", "password-alice")
    peer = FakeMastodon("m.test")
    await network.serve("m.test", peer.app)
    return a, peer


def _create(peer: FakeMastodon, number: int, content: str, **extra: Any) -> dict[str, Any]:
    note = {
        "id": f"{peer.actor_id}/statuses/{number}",
        "type": "Note",
        "attributedTo": peer.actor_id,
        "content": content,
        "to": [PUBLIC],
        **extra,
    }
    return {
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": peer.actor_id,
        "object": note,
    }


async def _rows(a: Instance, model: Any) -> list[Any]:
    async with a.services.db.begin() as session:
        return list((await session.scalars(select(model))).all())


def _long_post() -> str:
    link = '<a href="https://ak.test/notice/1" rel="nofollow noopener noreferrer">a link</a>'
    paragraph = f"<p>{'A sentence of a long post, written at length. ' * 8}{link}<br>more</p>"
    return paragraph * 50


async def test_costly_note_html_is_refused_and_a_long_post_kept(network: Network) -> None:
    a, peer = await _setup(network)
    await deliver(a, peer, peer.follow(ALICE))
    await network.drain()
    long_post = _long_post()
    assert len(long_post) > 20_000
    sent = {
        1: "<b>" * 20_000,  # 60 kB: under the length cap, seconds of html5lib before
        2: "<span>" * 1_000 + "deep" + "</span>" * 1_000,
        3: "<i></b>" * 500,  # misnested: closes nothing, nests as deep as it opens
        4: long_post,
    }
    for number, content in sent.items():
        await deliver(a, peer, _create(peer, number, content))
    # A content warning is HTML too, and was read by the standard library's parser.
    await deliver(a, peer, _create(peer, 5, "<p>hi</p>", summary="<a x" * 10_001))
    await network.drain()

    errors = {r.activity_id: r.error or "" for r in await _rows(a, InboxActivity)}
    status = f"{peer.actor_id}/statuses"
    assert "content has 20000 tags (at most 10000)" in errors[f"{status}/1/activity"]
    assert "content is nested more than 100 elements deep" in errors[f"{status}/2/activity"]
    assert "content is nested more than 100 elements deep" in errors[f"{status}/3/activity"]
    assert errors[f"{status}/4/activity"] == ""
    assert "summary has 10001 tags" in errors[f"{status}/5/activity"]
    stored = {p.uri: p for p in await _rows(a, Post) if not p.local}
    assert list(stored) == [f"{status}/4"]
    assert stored[f"{status}/4"].content_html.count("<p>") == 50


async def test_profile_update_with_costly_bio_is_refused(network: Network) -> None:
    a, peer = await _setup(network)
    await deliver(a, peer, peer.follow(ALICE))
    await network.drain()
    kept = peer.actor()
    kept["summary"] = "<p>my bio</p>"
    deep = peer.actor()
    deep["summary"] = "<p>" + "<span>" * 500 + "bio" + "</span>" * 500 + "</p>"
    flood = peer.actor()
    flood["attachment"] = [
        {"type": "PropertyValue", "name": f"f{i}", "value": "<b>x</b>" * 200} for i in range(40)
    ]
    for number, doc in enumerate((kept, deep, flood), start=1):
        update = {
            "id": f"{peer.actor_id}#updates/{number}",
            "type": "Update",
            "actor": peer.actor_id,
            "object": doc,
        }
        await deliver(a, peer, update)
        await network.drain()

    errors = {r.activity_id: r.error or "" for r in await _rows(a, InboxActivity)}
    assert errors[f"{peer.actor_id}#updates/1"] == ""
    assert "summary is nested more than 100 elements deep" in errors[f"{peer.actor_id}#updates/2"]
    assert (
        "summary and profile fields have 16000 tags (at most 10000)"
        in errors[f"{peer.actor_id}#updates/3"]
    )
    (account,) = [acc for acc in await _rows(a, Account) if acc.uri == peer.actor_id]
    assert account.note_html == "<p>my bio</p>"
    assert account.fields == []
