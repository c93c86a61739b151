"""A reply mentions the author it answers even when the mention is not typed (as Mastodon's
composer does): `cc` (or `to`, for a direct reply) and a `Mention` tag name them, the reply
is delivered to their server, and they are notified there. Not oneself, not across a block."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kizuna.storage.models import Account, Delivery, Notification, OutboxActivity, Post
from tests.integration.lab import Instance, Network

ALICE = "https://a.test/users/alice"
MENTION = {"type": "Mention", "href": ALICE, "name": "@alice@a.test"}


async def _sent(b: Instance, post: Post) -> tuple[dict[str, Any], list[str]]:
    """The Create b queued for `post`, and the domains it is delivered to."""
    async with b.services.db.begin() as session:
        row = (
            await session.scalars(
                select(OutboxActivity).where(OutboxActivity.activity_id == f"{post.uri}/activity")
            )
        ).one()
        domains = (
            await session.scalars(
                select(Delivery.domain).where(Delivery.outbox_activity_id == row.id)
            )
        ).all()
    return row.raw["object"], sorted(domains)


async def _mentions(note: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in note["tag"] if t["type"] == "Mention"]


async def test_reply_names_the_parent_author_and_reaches_them(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    bob = (await b.services.accounts.create_user("bob", "password-bob")).account
    await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    public = await a.services.posts.create(alice, "a public thought")
    private = await a.services.posts.create(alice, "for followers", visibility="private")
    await network.drain()
    async with b.services.db.begin() as session:
        copies = {p.uri: p.id for p in (await session.scalars(select(Post))).all()}

    reply = await b.services.posts.create(bob, "I agree", in_reply_to=copies[public.uri])
    note, domains = await _sent(b, reply)
    assert ALICE in note["cc"]
    assert await _mentions(note) == [MENTION]
    assert domains == ["a.test"]
    assert note["content"] == "<p>I agree</p>"  # the text stays as typed

    quiet = await b.services.posts.create(
        bob, "just us", in_reply_to=copies[private.uri], visibility="private"
    )
    note, domains = await _sent(b, quiet)
    assert note["to"] == ["https://b.test/users/bob/followers"]
    assert note["cc"] == [ALICE]
    assert await _mentions(note) == [MENTION]
    assert domains == ["a.test"]

    direct = await b.services.posts.create(
        bob, "psst", in_reply_to=copies[public.uri], visibility="direct"
    )
    note, domains = await _sent(b, direct)
    assert (note["to"], note["cc"]) == ([ALICE], [])
    assert domains == ["a.test"]

    await network.drain()
    async with a.services.db.begin() as session:
        stored = {p.uri: p for p in (await session.scalars(select(Post))).all()}
        told = (
            await session.scalars(
                select(Notification.post_id).where(Notification.account_id == alice.id)
            )
        ).all()
    for sent in (reply, quiet, direct):
        assert stored[sent.uri].in_reply_to_id is not None
        assert stored[sent.uri].id in told
    # alice may read the direct reply: it is addressed to her.
    seen = await a.services.posts.get_visible(stored[direct.uri].id, alice)
    assert seen.uri == direct.uri


async def test_no_mention_of_oneself_nor_across_a_block(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    bob = (await b.services.accounts.create_user("bob", "password-bob")).account
    await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    public = await a.services.posts.create(alice, "a public thought")
    await network.drain()
    own = await b.services.posts.create(bob, "my own thread")
    self_reply = await b.services.posts.create(bob, "and more", in_reply_to=own.id)
    note = await b.services.documents.note("bob", self_reply.id)
    assert await _mentions(note) == []
    assert note["cc"] == ["https://b.test/users/bob/followers"]

    async with b.services.db.begin() as session:
        alice_there = (await session.scalars(select(Account).where(Account.uri == ALICE))).one()
        copy_id = (await session.scalars(select(Post.id).where(Post.uri == public.uri))).one()
    await b.services.blocks.block(bob, alice_there.id)
    walled = await b.services.posts.create(bob, "talking past", in_reply_to=copy_id)
    note = await b.services.documents.note("bob", walled.id)
    assert ALICE not in note["cc"]
    assert await _mentions(note) == []
    async with b.services.db.begin() as session:
        queued = (await session.scalars(select(OutboxActivity.activity_id))).all()
    assert f"{walled.uri}/activity" not in queued  # nothing goes to alice's server
