"""Our reactions are served at their ids (/users/NAME/reactions/ID, and /undo): exactly as
sent, only while they stand, only for posts that are served, under authorized fetch signed.

alice on a.test follows bob on b.test and reacts to his posts; b.test is the peer that
received the activities (and fetches them, signed, under authorized fetch).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kizuna.storage.models import InboxActivity, Post, Reaction
from tests.integration.lab import Instance, Network

AP = {"Accept": "application/activity+json"}


async def _pair(network: Network) -> tuple[Instance, Instance]:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    await a.services.accounts.create_user("carol", "password-carol")
    await b.services.accounts.create_user("bob", "password-bob")
    await a.services.remote_accounts.resolve("@bob@b.test")
    await a.services.follows.follow(alice, "bob", "b.test")
    await network.drain()
    return a, b


async def _copy(network: Network, a: Instance, b: Instance, text: str, visibility: str) -> int:
    """bob posts on b.test; the id of a.test's copy."""
    bob = (await b.services.accounts.list_users())[0].account
    original = await b.services.posts.create(bob, text, visibility=visibility)
    await network.drain()
    async with a.services.db.begin() as session:
        found = await session.scalar(select(Post.id).where(Post.uri == original.uri))
    assert found is not None
    return found


async def _uri(a: Instance, post_id: int, emoji: str) -> str:
    async with a.services.db.begin() as session:
        uri = await session.scalar(
            select(Reaction.uri).where(Reaction.post_id == post_id, Reaction.emoji == emoji)
        )
    assert uri is not None
    return uri


async def _received(b: Instance, activity_id: str) -> dict[str, Any]:
    async with b.services.db.begin() as session:
        row = await session.scalar(
            select(InboxActivity).where(InboxActivity.activity_id == activity_id)
        )
    assert row is not None, activity_id
    return row.raw


async def _get(instance: Instance, url: str) -> tuple[int, Any]:
    response = await instance.browser.get(
        url.removeprefix(f"https://{instance.domain}"), headers=AP
    )
    body = await response.json() if response.status == 200 else await response.text()
    return response.status, body


async def test_reaction_served_as_sent__404_when_taken_back_or_not_visible(
    network: Network,
) -> None:
    a, b = await _pair(network)
    alice = (await a.services.accounts.list_users())[0].account
    public = await _copy(network, a, b, "春が来た", "public")
    private = await _copy(network, a, b, "for followers", "private")
    await a.services.reactions.react(alice, public, "🎉")
    await a.services.interactions.like(alice, public)
    await a.services.reactions.react(alice, private, "🎉")
    await network.drain()
    emoji, like, hidden = (
        await _uri(a, public, "🎉"),
        await _uri(a, public, ""),
        await _uri(a, private, "🎉"),
    )
    assert emoji.startswith("https://a.test/users/alice/reactions/")

    for uri in (emoji, like):
        status, doc = await _get(a, uri)
        assert status == 200, doc
        assert doc == await _received(b, uri)  # the very document b.test was sent
        assert (doc["id"], doc["actor"]) == (uri, alice.uri)
    status, doc = await _get(a, emoji)
    assert (doc["type"], doc["content"]) == ("Like", "🎉")
    # The post is not served (followers only): neither is the reaction to it (sent to b).
    assert (await _received(b, hidden))["id"] == hidden
    assert (await _get(a, hidden))[0] == 404
    # Nothing under another account's name, nor an id never made.
    number = emoji.rsplit("/", 1)[1]
    assert (await _get(a, f"https://a.test/users/carol/reactions/{number}"))[0] == 404
    assert (await _get(a, "https://a.test/users/alice/reactions/1"))[0] == 404
    # Standing reactions have no Undo to serve.
    assert (await _get(a, f"{emoji}/undo"))[0] == 404

    await a.services.reactions.unreact(alice, public, "🎉")
    await network.drain()
    assert (await _get(a, emoji))[0] == 404  # taken back
    status, undo = await _get(a, f"{emoji}/undo")
    assert status == 200, undo
    assert undo == await _received(b, f"{emoji}/undo")
    assert (undo["type"], undo["actor"], undo["object"]["id"]) == ("Undo", alice.uri, emoji)
    await a.services.reactions.unreact(alice, private, "🎉")
    await network.drain()
    assert (await _received(b, f"{hidden}/undo"))["type"] == "Undo"
    assert (await _get(a, f"{hidden}/undo"))[0] == 404  # its post is still not served

    # Authorized fetch: unsigned asks are refused; a signed fetch gets the document.
    await a.services.settings.set_authorized_fetch(True)
    for url in (like, f"{emoji}/undo"):
        assert (await _get(a, url))[0] == 401
        fetched = await b.services.federation.get_json(url)
        assert fetched.doc == await _received(b, url)


async def test_reaction_with_an_old_fragment_id__still_undone_by_that_id(
    network: Network,
) -> None:
    """Reactions made before ids were fetchable keep their stored `#likes/N` id: taking
    one back sends the Undo of that id, and the peer drops it."""
    a, b = await _pair(network)
    alice = (await a.services.accounts.list_users())[0].account
    public = await _copy(network, a, b, "古い いいね", "public")
    await a.services.interactions.like(alice, public)
    await network.drain()
    new = await _uri(a, public, "")
    old = f"{alice.uri}#likes/{new.rsplit('/', 1)[1]}"
    for instance in (a, b):  # as both servers stored it back then
        async with instance.services.db.begin() as session:
            row = await session.scalar(select(Reaction).where(Reaction.uri == new))
            assert row is not None
            row.uri = old

    await a.services.interactions.unlike(alice, public)
    await network.drain()
    assert (await _received(b, f"{old}/undo"))["object"]["id"] == old
    async with b.services.db.begin() as session:
        assert (await session.scalars(select(Reaction))).all() == []
