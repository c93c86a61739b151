"""Surface: who hears of an action, told once each, and only on this server."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from kizuna.container import Services
from kizuna.services.surface import Surface
from kizuna.storage.engine import Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, AccountWarning, Notification, Post, Reaction

NOW = datetime.now(UTC)


async def _local(services: Services, username: str) -> Account:
    return (await services.accounts.create_user(username, f"password-{username}")).account


async def _remote(session: Session, username: str) -> Account:
    account = Account(
        username=username,
        username_key=username,
        domain="far.test",
        uri=f"https://far.test/users/{username}",
        inbox_url=f"https://far.test/users/{username}/inbox",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(account)
    await session.flush()
    return account


async def _post(session: Session, author: Account, parent: Post | None = None) -> Post:
    post_id = new_id()
    post = Post(
        id=post_id,
        uri=f"{author.uri}/statuses/{post_id}",
        account_id=author.id,
        local=author.is_local,
        in_reply_to_id=parent.id if parent else None,
        created_at=NOW,
    )
    session.add(post)
    await session.flush()
    post.account = author
    return post


async def _told(services: Services) -> list[tuple[str, str, str]]:
    """(recipient, kind, sender) of every notification, oldest first."""
    sender = aliased(Account)
    async with services.db.begin() as session:
        rows = await session.execute(
            select(Account.username, Notification.kind, sender.username)
            .join(Account, Account.id == Notification.account_id)
            .join(sender, sender.id == Notification.from_account_id)
            .order_by(Notification.id)
        )
        return [(to, kind, by) for to, kind, by in rows]


async def test_posted__parent_author_told_of_reply_once_others_of_mention(
    services: Services,
) -> None:
    alice, bob, carol = [await _local(services, n) for n in ("alice", "bob", "carol")]
    async with services.db.begin() as session:
        dave = await _remote(session, "dave")
        parent = await _post(session, alice)
        reply = await _post(session, bob, parent)
        await Surface(services.config).posted(
            session, reply, parent=parent, mentioned=[alice, carol, carol, bob, dave], now=NOW
        )
    # alice once, as the replied-to; the author and the remote dave not at all
    assert await _told(services) == [("alice", "reply", "bob"), ("carol", "mention", "bob")]


async def test_posted__reply_to_remote_post_tells_only_local_mentions(
    services: Services,
) -> None:
    bob, carol = await _local(services, "bob"), await _local(services, "carol")
    async with services.db.begin() as session:
        dave = await _remote(session, "dave")
        parent = await _post(session, dave)
        reply = await _post(session, bob, parent)
        await Surface(services.config).posted(
            session, reply, parent=parent, mentioned=[dave, carol], now=NOW
        )
    assert await _told(services) == [("carol", "mention", "bob")]


async def test_boosted_and_reacted__remote_author_not_told_here(services: Services) -> None:
    alice = await _local(services, "alice")
    surface = Surface(services.config)
    async with services.db.begin() as session:
        dave = await _remote(session, "dave")
        theirs, mine = await _post(session, dave), await _post(session, alice)
        for post in (theirs, mine):
            reaction = Reaction(
                account_id=alice.id if post is theirs else dave.id,
                post_id=post.id,
                emoji="🎉",
                uri=f"{post.uri}#react",
                created_at=NOW,
            )
            session.add(reaction)
            await session.flush()
            await surface.reacted(session, reaction, post, now=NOW)
        boost = await _post(session, alice)
        await surface.boosted(session, boost, theirs, now=NOW)
    assert await _told(services) == [("alice", "reaction", "dave")]


async def test_warned__told_by_the_instance_unless_suspended(services: Services) -> None:
    bob = await _local(services, "bob")
    instance = await services.accounts.instance_actor()
    surface = Surface(services.config)
    async with services.db.begin() as session:
        for action in ("suspend", "silence", "warn"):
            warning = AccountWarning(account_id=bob.id, action=action, created_at=NOW)
            await surface.warned(session, warning, bob, now=NOW)
    assert await _told(services) == [
        ("bob", "warning", instance.username),
        ("bob", "warning", instance.username),
    ]
