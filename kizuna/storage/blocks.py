"""A user's blocks, mutes and domain blocks, and the SQL filters that honour them.

Every function takes the session first; callers own the transaction (as in repo). Rows of
account_blocks whose `account_id` is a remote account record a Block that account sent us.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Select, and_, delete, exists, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.elements import ColumnElement

from kizuna.storage.models import (
    Account,
    AccountBlock,
    AccountDomainBlock,
    AccountMute,
    Follow,
    Notification,
    Post,
)
from kizuna.storage.repo import on_domain

# --- blocks -----------------------------------------------------------------------------


async def get_block(session: AsyncSession, account_id: int, target_id: int) -> AccountBlock | None:
    stmt = select(AccountBlock).where(
        AccountBlock.account_id == account_id, AccountBlock.target_account_id == target_id
    )
    return (await session.scalars(stmt)).first()


async def add_block(session: AsyncSession, block: AccountBlock) -> AccountBlock:
    """Idempotent: blocking twice returns the existing row (a newer uri replaces the old)."""
    existing = await get_block(session, block.account_id, block.target_account_id)
    if existing is not None:
        existing.uri = block.uri or existing.uri
        return existing
    try:
        async with session.begin_nested():
            session.add(block)
    except IntegrityError:  # a concurrent block of the same pair won
        existing = await get_block(session, block.account_id, block.target_account_id)
        assert existing is not None
        return existing
    return block


async def remove_block(
    session: AsyncSession, account_id: int, target_id: int, *, uri: str | None = None
) -> AccountBlock | None:
    """Delete the block (only the one made by activity `uri`, when given); the deleted row."""
    block = await get_block(session, account_id, target_id)
    if block is None or (uri is not None and block.uri not in (uri, None)):
        return None
    await session.delete(block)
    await session.flush()
    return block


async def get_block_by_uri(session: AsyncSession, uri: str) -> AccountBlock | None:
    return (await session.scalars(select(AccountBlock).where(AccountBlock.uri == uri))).first()


async def blocked_accounts(session: AsyncSession, account_id: int) -> list[AccountBlock]:
    stmt = (
        select(AccountBlock)
        .where(AccountBlock.account_id == account_id)
        .options(joinedload(AccountBlock.target))
        .order_by(AccountBlock.id.desc())
    )
    return list((await session.scalars(stmt)).all())


async def blocked_either_way(
    session: AsyncSession, account_id: int, other_ids: list[int]
) -> set[int]:
    """Those of `other_ids` that `account_id` blocked or that blocked `account_id`."""
    if not other_ids:
        return set()
    mine = select(AccountBlock.target_account_id).where(
        AccountBlock.account_id == account_id, AccountBlock.target_account_id.in_(other_ids)
    )
    theirs = select(AccountBlock.account_id).where(
        AccountBlock.target_account_id == account_id, AccountBlock.account_id.in_(other_ids)
    )
    return set((await session.scalars(union_all(mine, theirs))).all())


async def blocked_pairs(
    session: AsyncSession, authors: set[int], others: set[int]
) -> set[tuple[int, int]]:
    """(author, other) pairs, each way round, with a block between them: one query."""
    if not authors or not others:
        return set()
    stmt = select(AccountBlock.account_id, AccountBlock.target_account_id).where(
        or_(
            and_(AccountBlock.account_id.in_(authors), AccountBlock.target_account_id.in_(others)),
            and_(AccountBlock.account_id.in_(others), AccountBlock.target_account_id.in_(authors)),
        )
    )
    pairs: set[tuple[int, int]] = set()
    for blocker, blocked in (await session.execute(stmt)).all():
        pairs.update({(blocker, blocked), (blocked, blocker)})
    return pairs


# --- mutes ------------------------------------------------------------------------------


def _active(now: datetime) -> ColumnElement[bool]:
    return or_(AccountMute.expires_at.is_(None), AccountMute.expires_at > now)


async def get_mute(
    session: AsyncSession, account_id: int, target_id: int, now: datetime
) -> AccountMute | None:
    """The mute in force (an expired one counts as none)."""
    stmt = select(AccountMute).where(
        AccountMute.account_id == account_id,
        AccountMute.target_account_id == target_id,
        _active(now),
    )
    return (await session.scalars(stmt)).first()


async def set_mute(session: AsyncSession, mute: AccountMute) -> AccountMute:
    """Insert, or update the pair's row (muting again changes the duration and flag)."""
    stmt = select(AccountMute).where(
        AccountMute.account_id == mute.account_id,
        AccountMute.target_account_id == mute.target_account_id,
    )
    existing = (await session.scalars(stmt)).first()
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(mute)
            return mute
        except IntegrityError:
            existing = (await session.scalars(stmt)).first()
            assert existing is not None
    existing.notifications = mute.notifications
    existing.expires_at = mute.expires_at
    existing.created_at = mute.created_at
    await session.flush()
    return existing


async def remove_mute(session: AsyncSession, account_id: int, target_id: int) -> bool:
    result = await session.execute(
        delete(AccountMute).where(
            AccountMute.account_id == account_id, AccountMute.target_account_id == target_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def muted_accounts(
    session: AsyncSession, account_id: int, now: datetime
) -> list[AccountMute]:
    stmt = (
        select(AccountMute)
        .where(AccountMute.account_id == account_id, _active(now))
        .options(joinedload(AccountMute.target))
        .order_by(AccountMute.id.desc())
    )
    return list((await session.scalars(stmt)).all())


# --- domain blocks ----------------------------------------------------------------------


async def add_domain_block(session: AsyncSession, row: AccountDomainBlock) -> bool:
    """False when the user already hides that domain."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def remove_domain_block(session: AsyncSession, account_id: int, domain: str) -> bool:
    result = await session.execute(
        delete(AccountDomainBlock).where(
            AccountDomainBlock.account_id == account_id, AccountDomainBlock.domain == domain
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def domain_blocks(session: AsyncSession, account_id: int) -> list[AccountDomainBlock]:
    stmt = (
        select(AccountDomainBlock)
        .where(AccountDomainBlock.account_id == account_id)
        .order_by(AccountDomainBlock.domain)
    )
    return list((await session.scalars(stmt)).all())


async def has_domain_block(session: AsyncSession, account_id: int, domain: str) -> bool:
    stmt = select(
        exists().where(
            AccountDomainBlock.account_id == account_id, AccountDomainBlock.domain == domain
        )
    )
    return bool(await session.scalar(stmt))


async def follows_with_domain(
    session: AsyncSession, account_id: int, domain: str
) -> tuple[list[Follow], list[Follow]]:
    """(the user's follows of that domain's accounts, that domain's follows of the user),
    pending ones included, each with the other side's account."""
    theirs = select(Account.id).where(Account.domain == domain)
    outgoing = select(Follow).where(
        Follow.account_id == account_id, Follow.target_account_id.in_(theirs)
    )
    incoming = select(Follow).where(
        Follow.target_account_id == account_id, Follow.account_id.in_(theirs)
    )
    return (
        list((await session.scalars(outgoing)).all()),
        list((await session.scalars(incoming)).all()),
    )


async def delete_notifications_from(
    session: AsyncSession, account_id: int, *, from_account_id: int | None = None, domain: str = ""
) -> None:
    """Mastodon's AfterBlockService / AfterBlockDomainFromAccountService clear_notifications!."""
    stmt = delete(Notification).where(Notification.account_id == account_id)
    if from_account_id is not None:
        stmt = stmt.where(Notification.from_account_id == from_account_id)
    else:
        stmt = stmt.where(
            Notification.from_account_id.in_(select(Account.id).where(Account.domain == domain))
        )
    await session.execute(stmt)


# --- what a viewer does not want to see ---------------------------------------------------


def hidden_account_ids(viewer_id: int, now: datetime) -> Select[tuple[int]]:
    """Accounts the viewer blocked, that blocked the viewer, or that the viewer mutes (in
    force). Three small index lookups (uq_account_blocks, ix_account_blocks_target,
    uq_account_mutes); used as an uncorrelated NOT IN, evaluated once per query."""
    blocked = select(AccountBlock.target_account_id).where(AccountBlock.account_id == viewer_id)
    blocking = select(AccountBlock.account_id).where(AccountBlock.target_account_id == viewer_id)
    muted = select(AccountMute.target_account_id).where(
        AccountMute.account_id == viewer_id, _active(now)
    )
    union = union_all(blocked, blocking, muted).subquery()
    return select(union.c[0])


@dataclass(frozen=True, slots=True)
class ViewerFilter:
    """What one viewer hides; `any_accounts` False and no domains: nothing to add to a query,
    so a feed costs the same as before for everyone who blocks and mutes no one."""

    viewer_id: int
    now: datetime
    any_accounts: bool
    domains: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.any_accounts and not self.domains


async def viewer_filter(session: AsyncSession, viewer_id: int, now: datetime) -> ViewerFilter:
    """Two indexed look-ups: is anyone hidden from this viewer, and which domains."""
    found = await session.scalar(select(exists(hidden_account_ids(viewer_id, now))))
    domains = await session.scalars(
        select(AccountDomainBlock.domain).where(AccountDomainBlock.account_id == viewer_id)
    )
    return ViewerFilter(
        viewer_id=viewer_id, now=now, any_accounts=bool(found), domains=tuple(domains.all())
    )


async def hides(session: AsyncSession, hidden: ViewerFilter) -> Callable[[Post], bool]:
    """The same rule as `post_filters`, for a handful of posts already loaded (a thread)."""
    rows = await session.execute(hidden_account_ids(hidden.viewer_id, hidden.now))
    ids = {cast(int, row[0]) for row in rows}
    domains = set(hidden.domains)

    def hidden_post(post: Post) -> bool:
        return post.account_id in ids or post.account.domain in domains

    return hidden_post


def post_filters(hidden: ViewerFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses for a post query: nothing by a hidden account or domain, and no boost
    of such a post. The domain test is correlated (one primary-key look-up per row read)
    because accounts.domain has no index of its own."""
    if hidden.empty:
        return []
    clauses: list[ColumnElement[bool]] = []
    boosted = aliased(Post)
    if hidden.any_accounts:
        ids = hidden_account_ids(hidden.viewer_id, hidden.now)
        clauses.append(Post.account_id.not_in(ids))
        clauses.append(
            ~exists().where(boosted.id == Post.reblog_of_id, boosted.account_id.in_(ids))
        )
    if hidden.domains:
        author = aliased(Account)
        clauses.append(
            ~exists().where(author.id == Post.account_id, author.domain.in_(hidden.domains))
        )
        booster_author = aliased(Account)
        clauses.append(
            ~exists().where(
                boosted.id == Post.reblog_of_id,
                booster_author.id == boosted.account_id,
                booster_author.domain.in_(hidden.domains),
            )
        )
    return clauses


def limited_filter(silenced_domains: tuple[str, ...]) -> ColumnElement[bool]:
    """Public timelines leave out limited accounts: silenced ones, and those on a domain the
    instance silenced (each rule covers its subdomains). Correlated on the author's row."""
    author = aliased(Account)
    limited: list[ColumnElement[bool]] = [author.silenced_at.is_not(None)]
    limited += [on_domain(author.domain, domain) for domain in silenced_domains]
    return ~exists().where(author.id == Post.account_id, or_(*limited))


async def notification_unwanted(
    session: AsyncSession, recipient_id: int, sender_id: int, now: datetime
) -> bool:
    """The recipient blocked the sender, mutes it with notifications, or hides its domain."""
    sender_domain = select(Account.domain).where(Account.id == sender_id).scalar_subquery()
    stmt = select(
        or_(
            exists().where(
                AccountBlock.account_id == recipient_id,
                AccountBlock.target_account_id == sender_id,
            ),
            exists().where(
                AccountMute.account_id == recipient_id,
                AccountMute.target_account_id == sender_id,
                AccountMute.notifications.is_(True),
                _active(now),
            ),
            exists().where(
                AccountDomainBlock.account_id == recipient_id,
                AccountDomainBlock.domain == sender_domain,
            ),
        )
    )
    return bool(await session.scalar(stmt))


def notification_filter(recipient_id: int, now: datetime) -> ColumnElement[bool]:
    """For reading notifications: the same rule as `notification_unwanted`, for rows made
    before the block, mute or domain block."""
    blocked = select(AccountBlock.target_account_id).where(AccountBlock.account_id == recipient_id)
    muted = select(AccountMute.target_account_id).where(
        AccountMute.account_id == recipient_id,
        AccountMute.notifications.is_(True),
        _active(now),
    )
    hidden = union_all(blocked, muted).subquery()
    sender = aliased(Account)
    in_hidden_domain = exists().where(
        sender.id == Notification.from_account_id,
        sender.domain.in_(
            select(AccountDomainBlock.domain).where(AccountDomainBlock.account_id == recipient_id)
        ),
    )
    return and_(
        Notification.from_account_id.not_in(select(hidden.c[0])),
        ~in_hidden_domain,
    )
