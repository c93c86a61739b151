"""A reaction made on a third Kizuna server, relayed by a community, is believed by every
member server: its id can be fetched from the reactor's server (kizuna/inbox/community.py).

Four real instances: the community `tokyo` on a.test, bob (the author) on b.test, carol
(who reacts) on c.test, dan on d.test. d.test hears of carol's reaction only through the
community's Announce, so it must fetch the reaction (and later its Undo) from c.test.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Account, InboxActivity, Post, Reaction
from tests.integration.lab import Instance, Network

CAROL = "https://c.test/users/carol"


@dataclass
class Lab:
    a: Instance
    b: Instance
    c: Instance
    d: Instance
    bob: Account
    carol: Account
    dan: Account


async def _user(instance: Instance, name: str) -> Account:
    return (await instance.services.accounts.create_user(name, f"password-{name}")).account


async def _join(network: Network, instance: Instance, account: Account) -> None:
    await instance.services.communities.find("!tokyo@a.test")
    await instance.services.communities.join(account, "tokyo@a.test")
    await network.drain()


async def _lab(network: Network) -> Lab:
    a, b, c, d = [await network.start(f"{n}.test") for n in "abcd"]
    alice = await _user(a, "alice")
    await a.services.communities.create(
        alice, NewCommunity(slug="tokyo", name="Tokyo", description="Life in Tokyo")
    )
    lab = Lab(a, b, c, d, await _user(b, "bob"), await _user(c, "carol"), await _user(d, "dan"))
    await _join(network, b, lab.bob)
    await _join(network, c, lab.carol)
    await _join(network, d, lab.dan)
    return lab


async def _post_id(instance: Instance, uri: str) -> int:
    async with instance.services.db.begin() as session:
        found = await session.scalar(select(Post.id).where(Post.uri == uri))
    assert found is not None, instance.domain
    return found


async def _carols(instance: Instance) -> list[tuple[str, str | None]]:
    """(emoji, activity id) of carol's reactions held on `instance`."""
    async with instance.services.db.begin() as session:
        rows = await session.execute(
            select(Reaction.emoji, Reaction.uri)
            .join(Account, Account.id == Reaction.account_id)
            .where(Account.uri == CAROL)
            .order_by(Reaction.id)
        )
        return [(emoji, uri) for emoji, uri in rows.all()]


async def _errors(instance: Instance) -> list[str]:
    async with instance.services.db.begin() as session:
        rows = await session.scalars(select(InboxActivity).where(InboxActivity.error.is_not(None)))
        return [f"{r.activity_type}: {r.error}" for r in rows]


async def test_reaction_from_a_third_server__relayed_and_believed_by_every_member(
    network: Network,
) -> None:
    lab = await _lab(network)
    post = await lab.b.services.communities.post(lab.bob, "tokyo@a.test", "花見はどこ?")
    await network.drain()

    on_c = await _post_id(lab.c, post.uri)
    await lab.c.services.reactions.react(lab.carol, on_c, "🌸")
    await lab.c.services.interactions.like(lab.carol, on_c)
    await network.drain()

    (given_emoji, given_like) = await _carols(lab.c)
    assert given_emoji[1] is not None
    assert given_like[1] is not None
    for instance in (lab.a, lab.b, lab.d):
        held = await _carols(instance)
        assert sorted(held) == sorted(await _carols(lab.c)), instance.domain
        assert await _errors(instance) == [], instance.domain
    assert "#" not in given_emoji[1]  # fetchable ids
    assert "#" not in given_like[1]
    # d.test had them only from the Announce: it fetched them from carol's server.
    assert given_emoji[1].removeprefix("https://c.test") in lab.c.requests
    assert given_like[1].removeprefix("https://c.test") in lab.c.requests

    # Taken back: the relayed Undo is fetched from c.test too, and believed.
    await lab.c.services.reactions.unreact(lab.carol, on_c, "🌸")
    await network.drain()
    for instance in (lab.a, lab.b, lab.d):
        assert await _carols(instance) == [given_like], instance.domain
        assert await _errors(instance) == [], instance.domain
    assert f"{given_emoji[1]}/undo".removeprefix("https://c.test") in lab.c.requests
