"""Activities about accounts: deletion, blocks and moves sent by a Mastodon-shaped peer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kizuna.storage.models import Account, Follow, InboxActivity, Post
from tests.fakes.mastodon import FakeMastodon
from tests.integration.lab import Instance, Network
from tests.integration.receive import deliver

ALICE = "https://a.test/users/alice"


async def _setup(network: Network) -> tuple[Instance, FakeMastodon]:
    a = await network.start("a.test")
    await a.services.accounts.create_user("alice", "password-alice")
    peer = FakeMastodon("m.test")
    await network.serve("m.test", peer.app)
    return a, peer


async def _follow_and_post(a: Instance, peer: FakeMastodon, network: Network) -> None:
    await deliver(a, peer, peer.follow(ALICE))
    note = {
        "id": f"{peer.actor_id}/statuses/1",
        "type": "Note",
        "attributedTo": peer.actor_id,
        "content": "<p>hello</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    await deliver(
        a,
        peer,
        {"id": f"{note['id']}/activity", "type": "Create", "actor": peer.actor_id, "object": note},
    )
    await network.drain()


async def _rows(a: Instance, model: Any) -> list[Any]:
    async with a.services.db.begin() as session:
        return list((await session.scalars(select(model))).all())


async def test_account_deleted_by_its_server(network: Network) -> None:
    a, peer = await _setup(network)
    await _follow_and_post(a, peer, network)
    assert len(await _rows(a, Follow)) == 1
    assert len([p for p in await _rows(a, Post) if not p.local]) == 1
    await deliver(
        a,
        peer,
        {
            "id": f"{peer.actor_id}#delete",
            "type": "Delete",
            "actor": peer.actor_id,
            "object": peer.actor_id,
        },
    )
    await network.drain()
    assert await _rows(a, Follow) == []
    assert [p for p in await _rows(a, Post) if not p.local] == []
    (gone,) = [acc for acc in await _rows(a, Account) if acc.uri == peer.actor_id]
    assert gone.deleted_at is not None
    assert "deleted by its server" in await (await a.browser.get("/@mallory@m.test")).text()


async def test_block_ends_follows_both_ways(network: Network) -> None:
    a, peer = await _setup(network)
    await _follow_and_post(a, peer, network)
    await deliver(
        a,
        peer,
        {"id": "https://m.test/blocks/1", "type": "Block", "actor": peer.actor_id, "object": ALICE},
    )
    await network.drain()
    assert await _rows(a, Follow) == []


async def test_move_recorded_only_when_the_new_account_confirms(network: Network) -> None:
    a, peer = await _setup(network)
    await _follow_and_post(a, peer, network)
    new = FakeMastodon("n.test", "mallory2")
    confirmed = new.actor()
    confirmed["alsoKnownAs"] = [peer.actor_id]
    new.actor = lambda: confirmed  # type: ignore[method-assign]
    await network.serve("n.test", new.app)
    liar = FakeMastodon("x.test", "other")
    await network.serve("x.test", liar.app)
    for number, target in ((1, liar.actor_id), (2, new.actor_id)):
        move = {
            "id": f"https://m.test/moves/{number}",
            "type": "Move",
            "actor": peer.actor_id,
            "object": peer.actor_id,
            "target": target,
        }
        await deliver(a, peer, move)
        await network.drain()
    (moved,) = [acc for acc in await _rows(a, Account) if acc.uri == peer.actor_id]
    assert moved.moved_to_uri == new.actor_id
    rows = {r.activity_id: r for r in await _rows(a, InboxActivity)}
    assert "does not confirm the move" in (rows["https://m.test/moves/1"].error or "")
