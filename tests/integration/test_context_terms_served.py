"""Every term of every document Kizuna serves or queues expands as JSON-LD
(tests/jsonld_terms.py): actors of each type, their collections and first pages, notes and
their Create, likes and reactions collections, and every activity queued for delivery by a
busy afternoon (posts, a community thread and its announces, reactions in each dialect and
their Undo, an edit, a boost, a block, a report)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Follow, OutboxActivity
from tests.fakes.mastodon import StrictInbox
from tests.fakes.peers import person
from tests.integration.lab import Instance, Network
from tests.integration.test_actor_links import AP, JSON_LINKS, _path
from tests.jsonld_terms import undefined_terms


async def _get(a: Instance, url: str) -> Any:
    response = await a.browser.get(_path(url), headers={"Accept": AP}, allow_redirects=False)
    assert response.status == 200, url
    return await response.json(content_type=None)


async def test_every_served_and_queued_document_expands(network: Network) -> None:
    a = await network.start("a.test")
    svc = a.services
    alice = (await svc.accounts.create_user("alice", "password-alice")).account
    group = await svc.communities.create(alice, NewCommunity(slug="tokyo", name="Tokyo"))
    peers = {
        software: StrictInbox(f"{software}.test", software)
        for software in ("misskey", "akkoma", "mastodon")
    }
    members = []
    for peer in peers.values():
        actor = person(f"https://{peer.domain}/users/u", "u")
        actor["endpoints"] = {"sharedInbox": f"https://{peer.domain}/inbox"}
        peer.docs["/users/u"] = actor
        await network.serve(peer.domain, peer.app)
        members.append(await svc.remote_accounts.resolve_url(actor["id"]))
    async with svc.db.begin() as session:
        for member in members:
            for target in (group, alice):  # members of the community, followers of alice
                session.add(
                    Follow(
                        account_id=member.id,
                        target_account_id=target.id,
                        uri=f"{member.uri}#follows/{target.id}",
                        state="accepted",
                        created_at=group.created_at,
                    )
                )
    thread = await svc.posts.create(alice, "a thread", community_id=group.id)
    note = await svc.posts.create(alice, "hello", summary="a warning")
    await svc.posts.edit(note.id, alice, "hello again", summary="a warning")
    for emoji in ("🎉", "👎", ""):
        await svc.reactions.react(alice, thread.id, emoji)
    await svc.reactions.unreact(alice, thread.id, "🎉")
    await svc.interactions.boost(alice, note.id)
    await svc.blocks.block(alice, members[2].id)
    await svc.reports.create(alice, members[1].id, comment="spam", forward=True)

    async with svc.db.begin() as session:
        queued = (await session.scalars(select(OutboxActivity))).all()
    kinds = {row.activity_type for row in queued} | {
        row.raw["object"]["type"] for row in queued if isinstance(row.raw["object"], dict)
    }
    assert {"Create", "Update", "Announce", "Like", "EmojiReact", "Undo", "Block", "Flag"} <= kinds
    for row in queued:
        assert undefined_terms(row.raw) == [], row.raw

    base = svc.config.base_url
    urls = [f"{base}/users/alice", group.uri, f"{base}/actor"]
    for status in (note, thread):
        urls += [
            status.uri,
            f"{status.uri}/activity",
            f"{status.uri}/likes",
            f"{status.uri}/reactions",
        ]
    served = 0
    for url in urls:
        doc = await _get(a, url)
        found = [doc]
        for key in JSON_LINKS:
            if isinstance(doc.get(key), str):
                collection = await _get(a, doc[key])
                found.append(collection)
                if isinstance(collection.get("first"), str):
                    found.append(await _get(a, collection["first"]))
        for each in found:
            assert undefined_terms(each) == [], each
            served += 1
    assert served > 20
