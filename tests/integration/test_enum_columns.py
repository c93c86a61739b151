"""accounts.actor_type and posts.visibility hold the same plain strings as before they were
typed (no migration), and read back as ActorType / Visibility members, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from kizuna.activitypub.vocab import ActorType, Visibility
from kizuna.storage.engine import Database
from kizuna.storage.models import Account, Post

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _group() -> Account:
    return Account(
        id=1,
        username="tea",
        username_key="tea",
        domain="x.test",
        uri="https://x.test/c/tea",
        actor_type=ActorType.GROUP,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_written_as_members__stored_as_plain_strings(db: Database) -> None:
    async with db.begin() as session:
        session.add(_group())
        await session.flush()
        session.add(
            Post(
                id=2,
                uri="https://x.test/p/2",
                account_id=1,
                visibility=Visibility.UNLISTED,
                created_at=NOW,
            )
        )
    async with db.begin() as session:
        stored = (
            await session.execute(
                text(
                    "SELECT a.actor_type, p.visibility FROM accounts a"
                    " JOIN posts p ON p.account_id = a.id"
                )
            )
        ).one()

    assert tuple(stored) == ("Group", "unlisted")


async def test_stored_strings__read_back_as_members(db: Database) -> None:
    async with db.begin() as session:
        session.add(_group())
        await session.flush()
        # As rows written before the columns were typed.
        await session.execute(text("UPDATE accounts SET actor_type = 'Application'"))
        await session.execute(
            text(
                "INSERT INTO posts (id, uri, account_id, local, content_source, content_html,"
                " summary, sensitive, visibility, created_at) VALUES (2, 'https://x.test/p/2',"
                " 1, false, '', '', '', false, 'direct', :now)"
            ),
            {"now": NOW},
        )
    async with db.begin() as session:
        account = await session.get(Account, 1)
        post = await session.get(Post, 2)

    assert account is not None
    assert post is not None
    assert account.actor_type is ActorType.APPLICATION
    assert account.is_instance_actor
    assert not account.is_group
    assert post.visibility is Visibility.DIRECT


async def test_a_value_outside_the_enum__refused(db: Database) -> None:
    account = _group()
    account.actor_type = "Robot"  # type: ignore[assignment]
    with pytest.raises(StatementError, match="'Robot' is not a valid ActorType"):
        async with db.begin() as session:
            session.add(account)
