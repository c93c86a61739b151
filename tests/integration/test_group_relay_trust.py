"""A remote Group relays its members' reactions (FEP-1b12 Announce of Like/EmojiReact/Undo):
it is believed for the accounts of its own host, for others' only as their origin serves the
activity, and never for our own accounts.

Real signed deliveries: g.test is a Group host (the group `tokyo`, which signs, and its
member gina), m.test a third server (mallory), both aiohttp servers on loopback serving
their actors and documents; a.test is a real Kizuna instance where alice joined the group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from kizuna.storage.models import Account, Follow, InboxActivity, Post, Reaction
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.peers import json_reply, person
from tests.integration.lab import Instance, Network

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
GROUP = "https://g.test/users/tokyo"
GINA = "https://g.test/users/gina"
NOTE = "https://g.test/post/1"
BOB = "https://a.test/users/bob"
MALLORY = "https://m.test/users/mallory"


class Host(FakeMastodon):
    """A server whose actor signs deliveries, and which serves `docs` (path → JSON)."""

    def __init__(self, domain: str, username: str, *, group: bool = False) -> None:
        super().__init__(domain, username)
        self.group = group
        self.docs: dict[str, dict[str, Any]] = {}
        self.app.router.add_get("/{tail:.*}", self._doc)

    def actor(self) -> dict[str, Any]:
        doc = super().actor()
        if self.group:
            doc.update(type="Group", followers=f"{self.actor_id}/followers")
        return doc

    def serve(self, doc: dict[str, Any]) -> None:
        self.docs[doc["id"].split("/", 3)[3]] = doc

    async def _doc(self, request: web.Request) -> web.Response:
        doc = self.docs.get(request.path.lstrip("/"))
        if doc is None:
            raise web.HTTPNotFound()
        return json_reply(doc)


@dataclass
class World:
    network: Network
    a: Instance
    g: Host
    m: Host
    bob: Account

    async def send(self, peer: Host, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        headers = peer.sign("https://a.test/inbox", body)
        response = await self.a.browser.post("/inbox", data=body, headers=headers)
        assert response.status == 202, await response.text()
        await self.network.drain()

    async def announce(self, number: int, inner: dict[str, Any]) -> None:
        await self.send(
            self.g,
            {
                "@context": AS,
                "id": f"https://g.test/activities/announce/{number}",
                "type": "Announce",
                "actor": GROUP,
                "to": [PUBLIC],
                "cc": [f"{GROUP}/followers"],
                "object": inner,
            },
        )

    async def reactions(self) -> list[tuple[str, str, str | None]]:
        """(account uri, emoji, activity uri) of every reaction a.test holds."""
        async with self.a.services.db.begin() as session:
            rows = await session.execute(
                select(Account.uri, Reaction.emoji, Reaction.uri)
                .join(Account, Account.id == Reaction.account_id)
                .order_by(Reaction.id)
            )
            return [(uri, emoji, activity) for uri, emoji, activity in rows.all()]

    async def errors(self) -> dict[str, str]:
        async with self.a.services.db.begin() as session:
            rows = await session.scalars(select(InboxActivity))
            return {r.activity_id: r.error for r in rows if r.error is not None}

    async def post_id(self) -> int:
        async with self.a.services.db.begin() as session:
            found = await session.scalar(select(Post.id).where(Post.uri == NOTE))
        assert found is not None
        return found


def reaction(kind: str, ident: str, actor: str, content: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": ident, "type": kind, "actor": actor, "object": NOTE}
    if content is not None:
        doc["content"] = content
    return doc


def undo(ident: str, actor: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"id": ident, "type": "Undo", "actor": actor, "object": inner}


async def _world(network: Network) -> World:
    a = await network.start("a.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    bob = (await a.services.accounts.create_user("bob", "password-bob")).account
    g, m = Host("g.test", "tokyo", group=True), Host("m.test", "mallory")
    g.serve(person(GINA, "gina"))
    for host in (g, m):
        await network.serve(host.domain, host.app)
    group = await a.services.remote_accounts.resolve_url(GROUP)
    assert group.actor_type == "Group"
    async with a.services.db.begin() as session:
        session.add(
            Follow(
                account_id=alice.id,
                target_account_id=group.id,
                uri="https://a.test/users/alice#join",
                created_at=datetime.now(UTC),
            )
        )
    world = World(network, a, g, m, bob)
    # gina's thread in the group, relayed by the group (same host: taken as embedded).
    note = {
        "id": NOTE,
        "type": "Page",
        "attributedTo": GINA,
        "name": "Best ramen?",
        "content": "<p>Fuunji or Afuri?</p>",
        "audience": GROUP,
        "to": [GROUP, PUBLIC],
    }
    create = {"id": "https://g.test/activities/create/1", "type": "Create", "actor": GINA}
    await world.announce(1, {**create, "to": [GROUP, PUBLIC], "object": note})
    assert await world.post_id()
    return world


async def test_group_cannot_react_as_one_of_our_accounts(network: Network) -> None:
    world = await _world(network)
    await world.announce(2, reaction("Like", f"{BOB}#likes/forged", BOB))
    await world.announce(3, reaction("EmojiReact", f"{BOB}#reacts/forged", BOB, "🤡"))
    await world.announce(4, reaction("Like", "https://g.test/activities/like/9", BOB, "🤡"))
    assert await world.reactions() == []
    # Ids on our host read as our own activities coming back: ignored. Elsewhere: refused.
    errors = await world.errors()
    assert list(errors) == ["https://g.test/activities/announce/4"]
    assert "our account" in errors["https://g.test/activities/announce/4"]


async def test_group_cannot_unreact_as_one_of_our_accounts(network: Network) -> None:
    world = await _world(network)
    # bob's own like, made here; the group cannot take it back for him.
    await world.a.services.interactions.like(world.bob, await world.post_id())
    [(_, _, mine)] = await world.reactions()
    assert mine is not None
    await world.announce(5, undo(f"{BOB}#undo/forged", BOB, reaction("Like", mine, BOB)))
    gone = undo("https://g.test/activities/undo/9", BOB, reaction("Like", mine, BOB))
    await world.announce(6, gone)
    assert await world.reactions() == [(BOB, "", mine)]
    assert "our account" in (await world.errors())["https://g.test/activities/announce/6"]


async def test_group_cannot_react_as_a_third_servers_account(
    network: Network,
) -> None:
    world = await _world(network)
    # m.test never made these: fetched from their ids, they are not there.
    await world.announce(2, reaction("Like", "https://m.test/likes/1", MALLORY))
    await world.announce(3, reaction("EmojiReact", "https://m.test/reacts/1", MALLORY, "🤡"))
    # An id on the group's host does not make mallory's activity the group's to tell.
    await world.announce(4, reaction("Like", "https://g.test/activities/like/2", MALLORY))
    assert await world.reactions() == []
    assert len(await world.errors()) == 3


async def test_group_cannot_unreact_as_a_third_servers_account(network: Network) -> None:
    world = await _world(network)
    # mallory's real like, sent by m.test itself; a forged Undo relayed by the group.
    real = "https://m.test/likes/2"
    await world.send(world.m, reaction("Like", real, MALLORY))
    assert await world.reactions() == [(MALLORY, "", real)]
    await world.announce(5, undo("https://m.test/undo/2", MALLORY, reaction("Like", real, MALLORY)))
    assert await world.reactions() == [(MALLORY, "", real)]
    assert "https://g.test/activities/announce/5" in await world.errors()


async def test_group_relays_reactions_of_its_own_hosts_accounts(network: Network) -> None:
    world = await _world(network)
    like = reaction("Like", "https://g.test/activities/like/1", GINA)
    await world.announce(2, like)
    await world.announce(3, reaction("EmojiReact", "https://g.test/activities/react/1", GINA, "🍜"))
    assert await world.reactions() == [
        (GINA, "", "https://g.test/activities/like/1"),
        (GINA, "🍜", "https://g.test/activities/react/1"),
    ]
    await world.announce(4, undo("https://g.test/activities/undo/1", GINA, like))
    assert await world.reactions() == [(GINA, "🍜", "https://g.test/activities/react/1")]
    assert await world.errors() == {}


async def test_third_servers_reaction_is_applied_as_its_origin_serves_it(
    network: Network,
) -> None:
    """Origin fetch for relayed activities: m.test serves the Like at its id."""
    world = await _world(network)
    like = reaction("Like", "https://m.test/likes/3", MALLORY)
    world.m.serve({"@context": AS, **like})
    await world.announce(2, like)
    assert await world.reactions() == [(MALLORY, "", "https://m.test/likes/3")]

    # Served, but not what the group embedded (another type): refused.
    served = reaction("EmojiReact", "https://m.test/reacts/4", MALLORY, "👍")
    world.m.serve(served)
    await world.announce(3, {**served, "type": "Like"})
    assert len(await world.reactions()) == 1
    assert "unlike its origin" in (await world.errors())["https://g.test/activities/announce/3"]

    # Its Undo, served by m.test too, takes it back.
    taken_back = undo("https://m.test/undo/3", MALLORY, like)
    world.m.serve(taken_back)
    await world.announce(4, taken_back)
    assert await world.reactions() == []


async def test_undo_of_someone_elses_activity_is_refused(network: Network) -> None:
    """Outside groups too: an Undo names its own actor's activity or is refused."""
    world = await _world(network)
    await world.a.services.interactions.like(world.bob, await world.post_id())
    [(_, _, mine)] = await world.reactions()
    assert mine is not None
    forged = undo("https://m.test/undo/5", MALLORY, reaction("Like", mine, BOB))
    await world.send(world.m, forged)
    assert await world.reactions() == [(BOB, "", mine)]
    assert "cannot undo" in (await world.errors())["https://m.test/undo/5"]


# -- the same class outside groups: a signer acts only on what is its own -------------------
# (These paths were already safe; kept as regression guards with the Undo check above.)


async def test_signer_cannot_update_delete_or_accept_for_someone_else(network: Network) -> None:
    world = await _world(network)
    a = world.a
    alice = (await a.services.accounts.list_users())[0].account
    gina = await a.services.remote_accounts.resolve_url(GINA)
    follow = await a.services.follows.follow_account(alice, gina.id)
    await world.network.drain()
    assert follow.state == "pending"
    mallory = "https://m.test/users/mallory"
    await world.send(
        world.m,
        {
            "id": "https://m.test/update/1",
            "type": "Update",
            "actor": mallory,
            "object": {**person(GINA, "gina"), "name": "pwned"},
        },
    )
    await world.send(
        world.m,
        {
            "id": "https://m.test/update/2",
            "type": "Update",
            "actor": mallory,
            "object": {"id": NOTE, "type": "Page", "attributedTo": GINA, "content": "pwned"},
        },
    )
    await world.send(
        world.m,
        {"id": "https://m.test/delete/1", "type": "Delete", "actor": mallory, "object": NOTE},
    )
    await world.send(
        world.m,
        {
            "id": "https://m.test/accept/1",
            "type": "Accept",
            "actor": mallory,
            "object": {"type": "Follow", "actor": alice.uri, "object": GINA},
        },
    )
    async with a.services.db.begin() as session:
        post = await session.scalar(select(Post).where(Post.uri == NOTE))
        state = await session.scalar(select(Follow.state).where(Follow.id == follow.id))
        name = await session.scalar(select(Account.display_name).where(Account.uri == GINA))
    assert post is not None
    assert "pwned" not in post.content_html
    assert state == "pending"
    assert name != "pwned"
