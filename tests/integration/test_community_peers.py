"""Lemmy- and Mastodon-shaped peers and a community: joining, posting, announcing, forging.

The payloads in tests/data/peers/ follow Lemmy's crates/apub/assets/lemmy/activities
(follow.json, create_page.json, create_comment.json, community/block_user.json,
deletion/remove_note.json) and Mastodon's note serializer (a mention of the group).
The peers' actors and objects are served by fake servers on loopback, so that origin
fetches are real HTTP.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from kizuna.services.communities import NewCommunity
from kizuna.storage.models import (
    Account,
    CommunityBan,
    Delivery,
    Follow,
    InboxActivity,
    OutboxActivity,
    Post,
)
from tests.fakes.peers import FakePeer, json_reply, person
from tests.integration.lab import Instance, Network
from tests.integration.receive import receive

PEERS = Path(__file__).resolve().parents[1] / "data" / "peers"
GROUP = "https://a.test/c/tokyo"
DAVE = "https://lemmy.test/u/dave"
ERIN = "https://masto.test/users/erin"
RUST = "https://lemmy.test/c/rust"


def payload(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((PEERS / f"{name}.json").read_text())
    return doc


def lemmy_group(group_id: str, name: str) -> dict[str, Any]:
    doc = person(group_id, name)
    doc.update(
        type="Group",
        followers=f"{group_id}/followers",
        featured=f"{group_id}/featured",
        attributedTo=f"{group_id}/moderators",
        postingRestrictedToMods=False,
        endpoints={"sharedInbox": "https://lemmy.test/inbox"},
    )
    return doc


@dataclass
class Peers:
    a: Instance
    alice: Account
    lemmy: FakePeer
    other: FakePeer

    def serve(self, peer: FakePeer, doc: dict[str, Any]) -> None:
        path = doc["id"].split("/", 3)[3]
        peer.on(f"/{path}", lambda request: json_reply(doc))


async def _peers(network: Network) -> Peers:
    a = await network.start("a.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    await a.services.communities.create(alice, NewCommunity(slug="tokyo", name="Tokyo"))
    lemmy, masto, other = FakePeer("lemmy.test"), FakePeer("masto.test"), FakePeer("other.test")
    for peer in (lemmy, masto, other):
        await network.serve(peer.domain, peer.app)
    peers = Peers(a, alice, lemmy, other)
    peers.serve(lemmy, person(DAVE, "dave"))
    peers.serve(lemmy, person("https://lemmy.test/u/mallory", "mallory"))
    peers.serve(lemmy, lemmy_group(RUST, "rust"))
    peers.serve(masto, person(ERIN, "erin"))
    peers.serve(other, person("https://other.test/u/olga", "olga"))
    for uri in (DAVE, "https://lemmy.test/u/mallory", ERIN, "https://other.test/u/olga"):
        await a.services.remote_accounts.resolve_url(uri)
    return peers


async def _posts(instance: Instance) -> dict[str, Post]:
    async with instance.services.db.begin() as session:
        return {p.uri: p for p in (await session.scalars(select(Post))).all()}


async def _account_id(instance: Instance, uri: str) -> int:
    async with instance.services.db.begin() as session:
        found = await session.scalar(select(Account.id).where(Account.uri == uri))
    assert found is not None, uri
    return found


async def _join(instance: Instance, member: str, group: str = GROUP) -> None:
    async with instance.services.db.begin() as session:
        session.add(
            Follow(
                account_id=await _account_id(instance, member),
                target_account_id=await _account_id(instance, group),
                uri=f"{member}#join",
                created_at=(await instance.services.accounts.list_users())[0].created_at,
            )
        )


async def _clear_inbox(instance: Instance) -> None:
    async with instance.services.db.begin() as session:
        await session.execute(delete(InboxActivity))


def _row(rows: list[InboxActivity], activity_id: str) -> InboxActivity:
    return next(r for r in rows if r.activity_id == activity_id)


async def test_lemmy_user_joins_with_lemmys_follow_and_is_accepted(network: Network) -> None:
    peers = await _peers(network)
    rows = await receive(peers.a.services, payload("lemmy-follow-community"))
    assert [r.error for r in rows] == [None]
    async with peers.a.services.db.begin() as session:
        follow = (await session.scalars(select(Follow).where(Follow.uri.like("%lemmy%")))).one()
        accept = (
            await session.execute(
                select(OutboxActivity.raw, Delivery.inbox_url)
                .join(Delivery, Delivery.outbox_activity_id == OutboxActivity.id)
                .where(OutboxActivity.activity_type == "Accept")
            )
        ).one()
    assert follow.state == "accepted"
    assert accept.inbox_url == f"{DAVE}/inbox"
    assert accept.raw["actor"] == GROUP
    assert accept.raw["object"]["id"] == payload("lemmy-follow-community")["id"]


async def test_lemmy_post_and_comment_into_our_community_are_announced(
    network: Network,
) -> None:
    peers = await _peers(network)
    await _join(peers.a, DAVE)
    await _join(peers.a, ERIN)
    rows = await receive(
        peers.a.services,
        payload("lemmy-create-page-to-community"),
        payload("lemmy-create-comment-to-community"),
    )
    assert [r.error for r in rows] == [None, None]
    posts = await _posts(peers.a)
    group_id = await _account_id(peers.a, GROUP)
    page, comment = posts["https://lemmy.test/post/1"], posts["https://lemmy.test/comment/1"]
    assert page.community_id == group_id
    assert "Best ramen in Shinjuku?" in page.content_html  # Lemmy's title kept
    assert comment.community_id == group_id
    assert comment.in_reply_to_id == page.id
    async with peers.a.services.db.begin() as session:
        announces = (
            await session.execute(
                select(OutboxActivity.raw, Delivery.domain)
                .join(Delivery, Delivery.outbox_activity_id == OutboxActivity.id)
                .where(OutboxActivity.activity_type == "Announce")
            )
        ).all()
    # To Erin's server only (Dave's own server has it): Announce(Create) for each, and a
    # bare Announce of the new thread for Mastodon.
    assert {domain for _, domain in announces} == {"masto.test"}
    wrapped = sorted(
        raw["object"]["object"]["id"] for raw, _ in announces if isinstance(raw["object"], dict)
    )
    assert wrapped == ["https://lemmy.test/comment/1", "https://lemmy.test/post/1"]
    assert [raw["object"] for raw, _ in announces if isinstance(raw["object"], str)] == [
        "https://lemmy.test/post/1"
    ]
    assert all(raw["actor"] == GROUP and raw["audience"] == GROUP for raw, _ in announces)


async def test_non_member_and_banned_posts_are_refused_and_nothing_is_stored(
    network: Network,
) -> None:
    peers = await _peers(network)
    rows = await receive(peers.a.services, payload("lemmy-create-page-to-community"))
    assert rows[0].error is not None
    assert "join !tokyo" in rows[0].error
    assert "https://lemmy.test/post/1" not in await _posts(peers.a)

    await _join(peers.a, DAVE)
    async with peers.a.services.db.begin() as session:
        session.add(
            CommunityBan(
                community_id=await _account_id(peers.a, GROUP),
                account_id=await _account_id(peers.a, DAVE),
                reason="spam",
                created_at=peers.alice.created_at,
            )
        )
    await _clear_inbox(peers.a)
    rows = await receive(peers.a.services, payload("lemmy-create-page-to-community"))
    assert rows[0].error is not None
    assert "banned" in rows[0].error
    assert "https://lemmy.test/post/1" not in await _posts(peers.a)


async def test_mastodon_mention_of_the_group_is_a_community_post(network: Network) -> None:
    peers = await _peers(network)
    await _join(peers.a, ERIN)
    rows = await receive(peers.a.services, payload("mastodon-mention-group"))
    assert [r.error for r in rows] == [None]
    post = (await _posts(peers.a))["https://masto.test/users/erin/statuses/113500000000000001"]
    assert post.community_id == await _account_id(peers.a, GROUP)


def _announce(group: str, inner: dict[str, Any], number: int) -> dict[str, Any]:
    return {
        "@context": [
            "https://join-lemmy.org/context.json",
            "https://www.w3.org/ns/activitystreams",
        ],
        "id": f"https://lemmy.test/activities/announce/{number}",
        "type": "Announce",
        "actor": group,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [f"{group}/followers"],
        "object": inner,
    }


def _lemmy_create(post_id: str, author: str, content: str, group: str = RUST) -> dict[str, Any]:
    page = {
        "type": "Page",
        "id": post_id,
        "attributedTo": author,
        "to": [group, "https://www.w3.org/ns/activitystreams#Public"],
        "audience": group,
        "name": "A title",
        "content": content,
        "mediaType": "text/html",
        "published": "2026-11-29T15:10:51Z",
    }
    return {
        "id": f"{post_id}/create",
        "type": "Create",
        "actor": author,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [group],
        "audience": group,
        "object": page,
    }


async def _with_rust_member(peers: Peers) -> int:
    await peers.a.services.communities.find(RUST)
    await _join(peers.a, peers.alice.uri, RUST)
    return await _account_id(peers.a, RUST)


async def test_remote_lemmy_community_announces_are_taken_once(network: Network) -> None:
    peers = await _peers(network)
    rust = await _with_rust_member(peers)
    create = _lemmy_create("https://lemmy.test/post/7", DAVE, "<p>Rust 2.0?</p>")
    rows = await receive(peers.a.services, _announce(RUST, create, 1), _announce(RUST, create, 2))
    assert [r.error for r in rows] == [None, None]
    copies = [p for p in (await _posts(peers.a)).values() if p.uri == "https://lemmy.test/post/7"]
    assert [p.community_id for p in copies] == [rust]
    view = await peers.a.services.communities.view("rust@lemmy.test", peers.alice)
    assert [p.uri for p in view.page.posts] == ["https://lemmy.test/post/7"]

    # A moderator's removal (Lemmy: Delete by the mod, announced) and a ban of our member.
    removal = {
        "actor": "https://lemmy.test/u/mallory",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": "https://lemmy.test/post/7",
        "cc": [RUST],
        "type": "Delete",
        "summary": "off topic",
        "id": "https://lemmy.test/activities/delete/1",
    }
    ban = {
        "actor": "https://lemmy.test/u/mallory",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": peers.alice.uri,
        "cc": [RUST],
        "target": RUST,
        "type": "Block",
        "id": "https://lemmy.test/activities/block/1",
    }
    await _clear_inbox(peers.a)
    rows = await receive(peers.a.services, _announce(RUST, removal, 3), _announce(RUST, ban, 4))
    assert [r.error for r in rows] == [None, None]
    assert "https://lemmy.test/post/7" not in await _posts(peers.a)
    async with peers.a.services.db.begin() as session:
        bans = (await session.scalars(select(CommunityBan))).all()
        follows = (
            await session.scalars(select(Follow).where(Follow.target_account_id == rust))
        ).all()
    assert [(b.community_id, b.account_id) for b in bans] == [(rust, peers.alice.id)]
    assert follows == []


async def test_forged_announces_are_refused_and_store_nothing(network: Network) -> None:
    peers = await _peers(network)
    await _with_rust_member(peers)
    # 1. The embedded copy of another server's object differs from what that server serves.
    honest = _lemmy_create("https://other.test/post/1", "https://other.test/u/olga", "<p>hi</p>")
    peers.serve(peers.other, honest["object"])
    forged = copy.deepcopy(honest)
    forged["object"]["content"] = "<p>send me your password</p>"
    # 2. An object that is not in the group at all (served as is by its origin).
    elsewhere = _lemmy_create(
        "https://other.test/post/2", "https://other.test/u/olga", "<p>x</p>", group=GROUP
    )
    peers.serve(peers.other, elsewhere["object"])
    # 3. The inner activity names another author than the object's.
    stolen = _lemmy_create("https://lemmy.test/post/9", DAVE, "<p>mine</p>")
    stolen["actor"] = "https://lemmy.test/u/mallory"
    rows = await receive(
        peers.a.services,
        _announce(RUST, forged, 11),
        _announce(RUST, elsewhere, 12),
        _announce(RUST, stolen, 13),
    )
    errors = [r.error or "" for r in sorted(rows, key=lambda r: r.activity_id)]
    assert "unlike what its origin serves" in errors[0]
    assert "which is not in it" in errors[1]
    assert "announced as the author" in errors[2]
    assert all(r.processed_at is not None for r in rows)  # refused for good
    assert not {
        "https://other.test/post/1",
        "https://other.test/post/2",
        "https://lemmy.test/post/9",
    } & set(await _posts(peers.a))
    assert any(path == "/post/1" for path in peers.other.requests)


async def test_group_actor_serves_lemmys_shape(network: Network) -> None:
    peers = await _peers(network)
    response = await peers.a.browser.get(
        "/c/tokyo", headers={"Accept": "application/activity+json"}
    )
    assert response.status == 200
    doc = await response.json(content_type=None)
    assert doc["type"] == "Group"
    assert doc["id"] == GROUP
    assert doc["attributedTo"] == f"{GROUP}/moderators"
    assert doc["postingRestrictedToMods"] is False
    assert doc["inbox"] == f"{GROUP}/inbox"
    assert doc["endpoints"]["sharedInbox"] == "https://a.test/inbox"
    mods = await (
        await peers.a.browser.get(
            "/c/tokyo/moderators", headers={"Accept": "application/activity+json"}
        )
    ).json(content_type=None)
    assert mods["orderedItems"] == [peers.alice.uri]
    finger = await (
        await peers.a.browser.get(
            "/.well-known/webfinger", params={"resource": "acct:tokyo@a.test"}
        )
    ).json(content_type=None)
    assert {"rel": "self", "type": "application/activity+json", "href": GROUP} in finger["links"]
