"""A reaction reaches each server in that server's own dialect, also when one of our
communities relays it: unknown software gets a plain favourite (the README's promise),
never Misskey's Like+content; what a favourite would misrepresent, nothing at all."""

from __future__ import annotations

from typing import Any

from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Follow
from tests.fakes.mastodon import StrictInbox
from tests.fakes.peers import person
from tests.integration.lab import Network


def _relayed_reactions(peer: StrictInbox) -> list[dict[str, Any]]:
    """The reactions our community announced to `peer` (inner activities)."""
    return [
        doc["object"]
        for doc in peer.received
        if doc["type"] == "Announce"
        and isinstance(doc["object"], dict)
        and doc["object"]["type"] in ("Like", "EmojiReact")
    ]


async def test_community_relays_each_reaction_in_the_members_dialect(network: Network) -> None:
    a = await network.start("a.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    group = await a.services.communities.create(alice, NewCommunity(slug="tokyo", name="Tokyo"))
    assert group.public_key_pem is not None
    unknown, misskey = StrictInbox("odd.test", "someserver"), StrictInbox("mk.test", "misskey")
    members = []
    for peer, name in ((unknown, "olga"), (misskey, "mia")):
        actor = person(f"https://{peer.domain}/users/{name}", name)
        actor["endpoints"] = {"sharedInbox": f"https://{peer.domain}/inbox"}
        peer.docs[f"/users/{name}"] = actor
        await network.serve(peer.domain, peer.app)
        # Looking the member up teaches a.test its server's software (NodeInfo).
        members.append(await a.services.remote_accounts.resolve_url(actor["id"]))
    async with a.services.db.begin() as session:
        for member in members:
            session.add(
                Follow(
                    account_id=member.id,
                    target_account_id=group.id,
                    uri=f"{member.uri}#join",
                    state="accepted",
                    created_at=group.created_at,
                )
            )
    for peer in (unknown, misskey):
        peer.know_key(f"{group.uri}#main-key", group.public_key_pem)
    post = await a.services.posts.create(alice, "a thread", community_id=group.id)
    await a.services.reactions.react(alice, post.id, "🎉")
    await a.services.reactions.react(alice, post.id, "👎")
    await network.drain()
    assert unknown.refused == misskey.refused == []
    odd = _relayed_reactions(unknown)
    assert [(r["type"], "content" in r, "_misskey_reaction" in r) for r in odd] == [
        ("Like", False, False)
    ], odd
    # Deliveries to one server run side by side (up to 4 in flight), so arrival order is free.
    assert sorted((r["type"], r.get("content")) for r in _relayed_reactions(misskey)) == [
        ("Like", "🎉"),
        ("Like", "👎"),
    ]
