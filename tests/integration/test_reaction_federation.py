"""Reactions leaving Kizuna in each peer's dialect, and between two Kizuna instances.

Single-slot peers (Mastodon: one favourite; Misskey: one reaction per user) hear one of a
user's reactions at a time; Akkoma hears each as an EmojiReact; Kizuna as Like + content.
The receiving peers here are strict Mastodon-shaped inboxes (tests/fakes/mastodon.py) that
verify each signature and record what they accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kizuna.errors import ValidationError
from kizuna.storage.models import Account, Delivery, Post, Reaction
from kizuna.web.notification_groups import group_notifications
from tests.fakes.images import pixels, png
from tests.fakes.mastodon import StrictInbox
from tests.fakes.peers import person
from tests.integration.lab import Instance, Network
from tests.integration.receive import receive

ERIN = "https://peer.test/users/erin"
STATUS = "https://peer.test/users/erin/statuses/1"


async def _user(instance: Instance, name: str) -> Account:
    return (await instance.services.accounts.create_user(name, f"password-{name}")).account


async def _peer_post(network: Network, software: str) -> tuple[Instance, Account, StrictInbox, int]:
    """a.test with alice, and a post by erin on a `software` peer that a.test holds."""
    a = await network.start("a.test")
    alice = await _user(a, "alice")
    peer = StrictInbox("peer.test", software)
    actor = person(ERIN, "erin")
    actor["endpoints"] = {"sharedInbox": "https://peer.test/inbox"}
    peer.docs["/users/erin"] = actor
    note = {
        "id": STATUS,
        "type": "Note",
        "attributedTo": ERIN,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "content": "<p>hello</p>",
        "published": "2026-11-30T10:00:00Z",
    }
    await network.serve("peer.test", peer.app)
    assert alice.public_key_pem is not None
    peer.know_key(f"{alice.uri}#main-key", alice.public_key_pem)
    await a.services.remote_accounts.resolve_url(ERIN)
    create = {"id": f"{STATUS}/activity", "type": "Create", "actor": ERIN, "object": note}
    assert [r.error for r in await receive(a.services, create)] == [None]
    async with a.services.db.begin() as session:
        post_id = await session.scalar(select(Post.id).where(Post.uri == STATUS))
    assert post_id is not None
    return a, alice, peer, post_id


def _seen(peer: StrictInbox) -> list[tuple[str, str]]:
    """(type, emoji) of what the peer accepted; an Undo shows what it undid."""
    out = []
    for doc in peer.received:
        inner: dict[str, Any] = doc["object"] if doc["type"] == "Undo" else doc
        out.append((doc["type"], inner.get("content", "")))
    return out


async def test_mastodon_hears_one_positive_favourite_at_a_time(network: Network) -> None:
    a, alice, peer, post_id = await _peer_post(network, "mastodon")
    reactions = a.services.reactions
    await reactions.react(alice, post_id, "👍")
    await reactions.react(alice, post_id, "🎉")
    await reactions.react(alice, post_id, "👎")
    await network.drain()
    assert _seen(peer) == [("Like", "")]
    assert peer.refused == []
    like = peer.received[0]
    assert like["object"] == STATUS
    # A plain favourite, as Mastodon sends one: the emoji is for servers known to read it.
    assert "_misskey_reaction" not in like
    assert "content" not in like

    # 👍 goes but 🎉 stays: still a favourite on Mastodon, nothing to send.
    await reactions.unreact(alice, post_id, "👍")
    await network.drain()
    assert _seen(peer) == [("Like", "")]
    # 🎉 goes too, only 👎 is left, which a favourite would misread: the favourite goes.
    await reactions.unreact(alice, post_id, "🎉")
    await network.drain()
    assert _seen(peer) == [("Like", ""), ("Undo", "")]
    assert peer.refused == []
    async with a.services.db.begin() as session:
        left = (await session.scalars(select(Reaction.emoji))).all()
    assert left == ["👎"]


async def test_misskey_hears_one_reaction_at_a_time_negative_too(network: Network) -> None:
    a, alice, peer, post_id = await _peer_post(network, "misskey")
    await a.services.reactions.react(alice, post_id, "👎")
    await network.drain()
    await a.services.reactions.react(alice, post_id, "👀")
    await network.drain()
    assert _seen(peer) == [("Like", "👎")]
    await a.services.reactions.unreact(alice, post_id, "👎")
    await network.drain()
    # The next one waits until the Undo is through: Misskey keeps the first of two.
    assert _seen(peer) == [("Like", "👎"), ("Undo", "👎")]
    async with a.services.db.begin() as session:
        waiting = (await session.scalars(select(Delivery).where(Delivery.state == "pending"))).all()
        assert len(waiting) == 1
        assert waiting[0].next_attempt_at > datetime.now(UTC) + timedelta(seconds=5)
        waiting[0].next_attempt_at = datetime.now(UTC)
    await network.drain()
    assert _seen(peer) == [("Like", "👎"), ("Undo", "👎"), ("Like", "👀")]


async def test_akkoma_hears_every_reaction_as_emoji_react(network: Network) -> None:
    a, alice, peer, post_id = await _peer_post(network, "akkoma")
    await a.services.reactions.react(alice, post_id, "🔥")
    await network.drain()
    await a.services.reactions.react(alice, post_id, "👎")
    await network.drain()
    await a.services.interactions.like(alice, post_id)
    await network.drain()
    await a.services.reactions.unreact(alice, post_id, "🔥")
    await network.drain()
    assert _seen(peer) == [
        ("EmojiReact", "🔥"),
        ("EmojiReact", "👎"),
        ("Like", ""),
        ("Undo", "🔥"),
    ]
    assert peer.received[3]["object"]["type"] == "EmojiReact"


async def test_limit_and_invalid_reactions_are_refused(network: Network) -> None:
    a, alice, _, post_id = await _peer_post(network, "mastodon")
    for emoji in ("😀", "😃", "😄"):
        await a.services.reactions.react(alice, post_id, emoji)
    await a.services.interactions.like(alice, post_id)  # a plain like is not counted
    await network.drain()
    with pytest.raises(ValidationError, match="up to 3 different reactions"):
        await a.services.reactions.react(alice, post_id, "😁")
    for bad in ("hello", "👍👍", ":nope:", "<b>"):
        with pytest.raises(ValidationError):
            await a.services.reactions.react(alice, post_id, bad)
    async with a.services.db.begin() as session:
        count = len((await session.scalars(select(Reaction))).all())
    assert count == 4


async def test_kizuna_to_kizuna_several_reactions_both_ways(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice, bob = await _user(a, "alice"), await _user(b, "bob")
    await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    post = await a.services.posts.create(alice, "おはよう")
    await network.drain()
    async with b.services.db.begin() as session:
        copy_id = await session.scalar(select(Post.id).where(Post.uri == post.uri))
    assert copy_id is not None
    for emoji in ("🌅", "☕"):
        await b.services.reactions.react(bob, copy_id, emoji)
    await b.services.interactions.like(bob, copy_id)
    await network.drain()
    post = await a.services.posts.get_visible(post.id, alice)  # loaded as timelines load it
    summary = await a.services.reactions.summary([post], alice)
    assert sorted((e.name, e.count, e.accounts) for e in summary[post.id]) == [
        ("☕", 1, ["bob@b.test"]),
        ("🌅", 1, ["bob@b.test"]),
    ]
    stats = await a.services.interactions.stats([post], alice)
    assert stats[post.id].likes == 1
    await b.services.reactions.unreact(bob, copy_id, "🌅")
    await network.drain()
    summary = await a.services.reactions.summary([post], alice)
    assert [(e.name, e.count) for e in summary[post.id]] == [("☕", 1)]
    # The same activity delivered twice counts once (idempotent by id).
    async with a.services.db.begin() as session:
        rows = (await session.scalars(select(Reaction))).all()
    assert sorted(r.emoji for r in rows) == ["", "☕"]


async def test_note_publishes_likes_count_and_its_reactions(network: Network) -> None:
    a = await network.start("a.test")
    alice, carol = await _user(a, "alice"), await _user(a, "carol")
    post = await a.services.posts.create(alice, "count me")
    await a.services.reactions.react(carol, post.id, "🎉")
    await a.services.reactions.react(carol, post.id, "👀")
    await a.services.interactions.like(alice, post.id)
    accept = {"Accept": "application/activity+json"}
    note_path = f"/users/alice/statuses/{post.id}"
    note = await (await a.browser.get(note_path, headers=accept)).json(content_type=None)
    assert note["likes"] == {
        "id": f"https://a.test{note_path}/likes",
        "type": "Collection",
        "totalItems": 2,  # two accounts: a favourite count, not a reaction count
    }
    assert note["emojiReactions"] == f"https://a.test{note_path}/reactions"
    likes = await (await a.browser.get(f"{note_path}/likes", headers=accept)).json(
        content_type=None
    )
    assert likes["totalItems"] == 2
    given = await (await a.browser.get(f"{note_path}/reactions", headers=accept)).json(
        content_type=None
    )
    assert given["totalItems"] == 3
    assert [(i["type"], i.get("content", ""), i["actor"]) for i in given["orderedItems"]] == [
        ("Like", "🎉", carol.uri),
        ("Like", "👀", carol.uri),
        ("Like", "", alice.uri),
    ]


async def test_custom_emoji_reaction_round_trip_and_instance_only_stays_home(
    network: Network,
) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice, bob = await _user(a, "alice"), await _user(b, "bob")
    await b.services.custom_emoji.upload("blobcat", png())
    await b.services.custom_emoji.upload("secret", png(), local_only=True)
    await b.services.remote_accounts.resolve("@alice@a.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await network.drain()
    post = await a.services.posts.create(alice, "cats?")
    await network.drain()
    async with b.services.db.begin() as session:
        copy_id = await session.scalar(select(Post.id).where(Post.uri == post.uri))
    assert copy_id is not None
    await b.services.reactions.react(bob, copy_id, ":blobcat:")
    await b.services.reactions.react(bob, copy_id, ":secret:")
    await network.drain()
    post = await a.services.posts.get_visible(post.id, alice)
    (blobcat,) = (await a.services.reactions.summary([post], alice))[post.id]
    assert blobcat.name == ":blobcat@b.test:"
    assert blobcat.url is not None
    assert blobcat.url.startswith("/media/emoji/b.test/blobcat.")
    cached = a.services.config.media_dir / blobcat.url.removeprefix("/media/")
    assert pixels(cached.read_bytes()) == pixels(png())  # our own copy, not a link to b.test
    # On b both show; the instance-only one never left.
    mine = await b.services.posts.get_visible(copy_id, bob)
    names = sorted(e.name for e in (await b.services.reactions.summary([mine], bob))[copy_id])
    assert names == [":blobcat:", ":secret:"]

    entries = group_notifications(await a.services.interactions.notifications(alice))
    (entry,) = [e for e in entries if e.grouped]  # bob's follow is the other one
    assert entry.emoji == [":blobcat@b.test:"]
    assert entry.images[":blobcat@b.test:"] == blobcat.url

    await b.services.reactions.unreact(bob, copy_id, ":blobcat:")
    await network.drain()
    assert (await a.services.reactions.summary([post], alice))[post.id] == []
