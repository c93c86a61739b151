"""Real peers' payloads (tests/data/peers/) processed into the right rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from kizuna.app import http_session
from kizuna.config import Config
from kizuna.container import Services
from kizuna.storage.engine import Database
from kizuna.storage.models import (
    Account,
    Delivery,
    Follow,
    InboxActivity,
    Notification,
    Post,
    PostTag,
    Reaction,
)
from tests.integration.receive import receive

PEERS = Path(__file__).resolve().parents[1] / "data" / "peers"
NOTE = "https://kizuna.example/notes/01HZX3K9Q2"
ACTORS = {
    "https://mastodon.example/users/alice": ("alice", "mastodon.example"),
    "https://misskey.example/users/9abcd1234": ("kaito", "misskey.example"),
    "https://akkoma.example/users/carol": ("carol", "akkoma.example"),
    "https://gts.example/users/dana": ("dana", "gts.example"),
}


def payload(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((PEERS / f"{name}.json").read_text())
    return doc


@pytest.fixture
async def kizuna_example(config: Config, db: Database) -> AsyncIterator[Services]:
    """An instance at https://kizuna.example, the domain the fixtures address."""
    own = Config(
        domain="kizuna.example",
        public_url="https://kizuna.example",
        database_url=config.database_url,
        media_dir=config.media_dir,
        secret="s",
        workers=False,
        # Every peer named in the fixtures is "down" on a closed loopback port: no DNS, ever.
        federation_hosts={
            domain: ("127.0.0.1", 9)
            for domain in ("lemmy.example", *(d for _, d in ACTORS.values()))
        },
        allow_private_addresses=True,
        key_source=config.key_source,
        password_hasher=config.password_hasher,
    )
    async with http_session(own) as http:
        services = Services.build(own, db, http)
        bob = (await services.accounts.create_user("bob", "password-bob")).account
        now = datetime.now(UTC)
        async with db.begin() as session:
            session.add(
                Post(
                    uri=NOTE,
                    account_id=bob.id,
                    local=True,
                    content_html="<p>hi</p>",
                    created_at=now,
                )
            )
            for uri, (name, domain) in ACTORS.items():
                session.add(
                    Account(
                        username=name,
                        username_key=name,
                        domain=domain,
                        uri=uri,
                        inbox_url=f"{uri}/inbox",
                        shared_inbox_url=f"https://{domain}/inbox",
                        created_at=now,
                        updated_at=now,
                    )
                )
        yield services


async def process(services: Services, *names: str) -> list[InboxActivity]:
    return await receive(services, *(payload(name) for name in names))


async def rows(services: Services, model: Any) -> list[Any]:
    async with services.db.begin() as session:
        return list((await session.scalars(select(model))).all())


async def test_creates_from_four_servers_become_posts(kizuna_example: Services) -> None:
    done = await process(
        kizuna_example,
        "mastodon-create-note",
        "gotosocial-create-note",
        "misskey-create-note",
        "mastodon-create-question",
    )
    assert all(row.processed_at is not None and row.error is None for row in done)
    posts = {p.uri: p for p in await rows(kizuna_example, Post) if not p.local}
    mastodon = posts["https://mastodon.example/users/alice/statuses/113000000000000001"]
    assert mastodon.visibility == "public"
    assert "<script" not in mastodon.content_html
    assert 'href="/@bob"' in mastodon.content_html  # the mention links to our own page
    gts = posts["https://gts.example/users/dana/statuses/01J0F6Z8Q3X9RW2M5T7V4N1KCE"]
    local_note = next(p for p in await rows(kizuna_example, Post) if p.uri == NOTE)
    assert gts.in_reply_to_id == local_note.id  # a reply to our post is threaded
    assert "https://misskey.example/notes/9xk3b2c4d5" in posts
    poll = posts["https://mastodon.example/users/alice/statuses/113000000000000002"]
    assert '<ul class="poll"><li>vim</li><li>emacs</li><li>nano</li></ul>' in poll.content_html
    tags = {t.tag for t in await rows(kizuna_example, PostTag)}
    assert "kizuna" in tags
    kinds = sorted(n.kind for n in await rows(kizuna_example, Notification))
    assert kinds == ["mention", "mention", "reply"]


async def test_follow_like_undo_delete_from_mastodon(kizuna_example: Services) -> None:
    await process(kizuna_example, "mastodon-follow")
    (follow,) = await rows(kizuna_example, Follow)
    assert follow.state == "accepted"
    accepts = await rows(kizuna_example, Delivery)
    assert [d.inbox_url for d in accepts] == ["https://mastodon.example/users/alice/inbox"]
    await process(kizuna_example, "mastodon-like", "misskey-like-reaction")
    reactions = sorted((r.emoji, r.uri) for r in await rows(kizuna_example, Reaction))
    assert reactions[0][0] == ""  # Mastodon's like is a plain favourite
    assert reactions[1][0] != ""  # Misskey's carries its emoji
    await process(kizuna_example, "mastodon-undo-follow")
    assert await rows(kizuna_example, Follow) == []
    await process(kizuna_example, "mastodon-create-note", "mastodon-delete-tombstone")
    assert [p.uri for p in await rows(kizuna_example, Post) if not p.local] == []


async def test_lemmy_announce_needs_a_member_here_then_lands_in_the_community(
    kizuna_example: Services,
) -> None:
    """Nobody here joined: refused for good, nothing stored. Once bob joined, the group's
    own-host Create(Page) is taken as embedded (its host vouches) into the community."""
    now = datetime.now(UTC)
    async with kizuna_example.db.begin() as session:
        group = Account(
            username="kizuna",
            username_key="!kizuna",
            domain="lemmy.example",
            uri="https://lemmy.example/c/kizuna",
            actor_type="Group",
            created_at=now,
            updated_at=now,
        )
        session.add(group)
    (row,) = await process(kizuna_example, "lemmy-announce-create-page")
    assert row.processed_at is not None
    assert row.error is not None
    assert "nobody here joined" in row.error
    assert [p for p in await rows(kizuna_example, Post) if not p.local] == []

    bob = next(a for a in await rows(kizuna_example, Account) if a.username == "bob")
    dave = Account(
        username="dave",
        username_key="dave",
        domain="lemmy.example",
        uri="https://lemmy.example/u/dave",
        created_at=now,
        updated_at=now,
    )
    async with kizuna_example.db.begin() as session:
        session.add(dave)
        session.add(Follow(account_id=bob.id, target_account_id=group.id, created_at=now))
        await session.execute(delete(InboxActivity))
    (row,) = await process(kizuna_example, "lemmy-announce-create-page")
    assert row.error is None
    (post,) = [p for p in await rows(kizuna_example, Post) if not p.local]
    assert post.uri == "https://lemmy.example/post/1234"
    assert post.community_id == group.id
    assert "Kizuna 0.3 released" in post.content_html
