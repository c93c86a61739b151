"""Reaction queries: one account's reactions to a post, and per-emoji counts for many posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from kizuna.activitypub.ids import media_path
from kizuna.storage.models import Account, Reaction

SAMPLE_ACCOUNTS = 10  # who reacted, shown on hover: the first few


@dataclass(slots=True)
class EmojiCount:
    name: str  # "👍", ":blobcat:" (ours) or ":blobcat@misskey.example:" (theirs)
    count: int = 0
    me: bool = False
    url: str | None = None  # a custom emoji's image, under /media/
    accounts: list[str] = field(default_factory=list)  # acct of the first few


async def of_account(session: AsyncSession, account_id: int, post_id: int) -> list[Reaction]:
    """The account's reactions to the post (a plain like included), oldest first."""
    stmt = (
        select(Reaction)
        .where(Reaction.account_id == account_id, Reaction.post_id == post_id)
        .order_by(Reaction.id)
    )
    return list((await session.scalars(stmt)).all())


def display_name(reaction: Reaction) -> str:
    emoji = reaction.custom_emoji
    if emoji is None or emoji.is_local:
        return reaction.emoji
    return f":{emoji.shortcode}@{emoji.domain}:"


async def counts(
    session: AsyncSession, post_ids: Sequence[int], viewer_id: int | None
) -> dict[int, list[EmojiCount]]:
    """Emoji reactions (not plain likes) by post, most given first; two queries."""
    result: dict[int, list[EmojiCount]] = {post_id: [] for post_id in post_ids}
    if not post_ids:
        return result
    stmt = (
        select(Reaction)
        .options(joinedload(Reaction.custom_emoji))
        .where(Reaction.post_id.in_(post_ids), Reaction.emoji != "")
        .order_by(Reaction.id)
    )
    reactions = list((await session.scalars(stmt)).all())
    accounts = (
        {
            a.id: a
            for a in (
                await session.scalars(
                    select(Account).where(Account.id.in_({r.account_id for r in reactions}))
                )
            ).all()
        }
        if reactions
        else {}
    )
    by_post: dict[int, dict[str, EmojiCount]] = {post_id: {} for post_id in post_ids}
    for reaction in reactions:
        name = display_name(reaction)
        entry = by_post[reaction.post_id].get(name)
        if entry is None:
            image = reaction.custom_emoji.image_path if reaction.custom_emoji else None
            entry = EmojiCount(name=name, url=media_path(image) if image else None)
            by_post[reaction.post_id][name] = entry
        entry.count += 1
        entry.me = entry.me or reaction.account_id == viewer_id
        if len(entry.accounts) < SAMPLE_ACCOUNTS and reaction.account_id in accounts:
            entry.accounts.append(accounts[reaction.account_id].acct)
    for post_id, entries in by_post.items():
        result[post_id] = sorted(entries.values(), key=lambda e: -e.count)
    return result


async def count_likes(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, int]:
    """Accounts that liked or reacted, by post: what a favourite count means to Mastodon."""
    found = {post_id: 0 for post_id in post_ids}
    if not post_ids:
        return found
    stmt = (
        select(Reaction.post_id, func.count(func.distinct(Reaction.account_id)))
        .where(Reaction.post_id.in_(post_ids))
        .group_by(Reaction.post_id)
    )
    for post_id, count in (await session.execute(stmt)).all():
        found[post_id] = int(count)
    return found


async def for_post(session: AsyncSession, post_id: int, *, limit: int) -> list[Reaction]:
    stmt = (
        select(Reaction)
        .options(joinedload(Reaction.custom_emoji))
        .where(Reaction.post_id == post_id)
        .order_by(Reaction.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def count(session: AsyncSession, post_id: int) -> int:
    stmt = select(func.count()).select_from(Reaction).where(Reaction.post_id == post_id)
    return int(await session.scalar(stmt) or 0)
