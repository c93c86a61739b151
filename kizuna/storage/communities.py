"""Community queries: groups, roles, bans, the moderation log, community posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from kizuna.activitypub.vocab import PUBLIC_VISIBILITIES, ActorType
from kizuna.storage.models import (
    Account,
    Community,
    CommunityBan,
    CommunityRole,
    Follow,
    ModerationLogEntry,
    Post,
)
from kizuna.storage.repo import NOT_SUSPENDED, POST_LOADS, like_pattern
from kizuna.storage.states import CommunityRank, FollowState


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryEntry:
    group: Account
    community: Community
    members: int
    posts: int


async def get_group(session: AsyncSession, slug_key: str, domain: str = "") -> Account | None:
    """Ours share one namespace with people; remote ones are keyed "!name" (see lookup)."""
    if domain:
        slug_key = f"!{slug_key}"
    stmt = select(Account).where(
        Account.username_key == slug_key,
        Account.domain == domain,
        Account.actor_type == ActorType.GROUP,
    )
    return (await session.scalars(stmt)).first()


async def get_community(session: AsyncSession, account_id: int) -> Community | None:
    return await session.get(Community, account_id)


async def role_of(
    session: AsyncSession, community_id: int, account_id: int
) -> CommunityRank | None:
    row = await session.get(CommunityRole, (community_id, account_id))
    return None if row is None else row.role


async def set_role(
    session: AsyncSession,
    community_id: int,
    account_id: int,
    role: CommunityRank | None,
    now: datetime,
) -> None:
    row = await session.get(CommunityRole, (community_id, account_id))
    if role is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(
            CommunityRole(
                community_id=community_id, account_id=account_id, role=role, created_at=now
            )
        )
    else:
        row.role = role
    await session.flush()


async def moderators(
    session: AsyncSession, community_id: int
) -> list[tuple[Account, CommunityRank]]:
    stmt = (
        select(Account, CommunityRole.role)
        .join(CommunityRole, CommunityRole.account_id == Account.id)
        .where(CommunityRole.community_id == community_id)
        .order_by(CommunityRole.role.desc(), CommunityRole.created_at)
    )
    return [(a, r) for a, r in (await session.execute(stmt)).all()]


async def members(session: AsyncSession, community_id: int, *, limit: int = 200) -> list[Account]:
    stmt = (
        select(Account)
        .join(Follow, Follow.account_id == Account.id)
        .where(Follow.target_account_id == community_id, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.created_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def get_ban(session: AsyncSession, community_id: int, account_id: int) -> CommunityBan | None:
    return await session.get(CommunityBan, (community_id, account_id))


async def bans(session: AsyncSession, community_id: int) -> list[tuple[Account, CommunityBan]]:
    stmt = (
        select(Account, CommunityBan)
        .join(CommunityBan, CommunityBan.account_id == Account.id)
        .where(CommunityBan.community_id == community_id)
        .order_by(CommunityBan.created_at.desc())
    )
    return [(a, b) for a, b in (await session.execute(stmt)).all()]


async def add_ban(session: AsyncSession, ban: CommunityBan) -> None:
    existing = await session.get(CommunityBan, (ban.community_id, ban.account_id))
    if existing is None:
        session.add(ban)
    else:
        existing.reason, existing.uri = ban.reason, ban.uri or existing.uri
    await session.flush()


async def remove_ban(session: AsyncSession, community_id: int, account_id: int) -> bool:
    result = await session.execute(
        delete(CommunityBan).where(
            CommunityBan.community_id == community_id, CommunityBan.account_id == account_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def counts(session: AsyncSession, community_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(members, posts) by community id."""
    if not community_ids:
        return {}
    member_stmt = (
        select(Follow.target_account_id, func.count())
        .where(Follow.target_account_id.in_(community_ids), Follow.state == FollowState.ACCEPTED)
        .group_by(Follow.target_account_id)
    )
    post_stmt = (
        select(Post.community_id, func.count())
        .where(Post.community_id.in_(community_ids), Post.reblog_of_id.is_(None))
        .group_by(Post.community_id)
    )
    found_members = {k: n for k, n in (await session.execute(member_stmt)).all()}
    found_posts = {k: n for k, n in (await session.execute(post_stmt)).all()}
    return {
        cid: (int(found_members.get(cid, 0)), int(found_posts.get(cid, 0) or 0))
        for cid in community_ids
    }


async def directory(
    session: AsyncSession, text: str = "", *, limit: int = 50
) -> list[DirectoryEntry]:
    """Local communities, most recently active first; `text` matches name, slug or topic."""
    stmt = select(Account, Community).join(Community, Community.account_id == Account.id)
    if text:
        pattern = like_pattern(text.casefold())
        stmt = stmt.where(
            or_(
                Account.username_key.like(pattern, escape="\\"),
                func.lower(Account.display_name).like(pattern, escape="\\"),
                func.lower(Account.note).like(pattern, escape="\\"),
            )
        )
    stmt = stmt.order_by(
        Community.last_post_at.is_(None), Community.last_post_at.desc(), Account.username_key
    ).limit(limit)
    rows = [(a, c) for a, c in (await session.execute(stmt)).all()]
    figures = await counts(session, [a.id for a, _ in rows])
    return [
        DirectoryEntry(group=a, community=c, members=figures[a.id][0], posts=figures[a.id][1])
        for a, c in rows
    ]


async def community_posts(
    session: AsyncSession,
    community_id: int,
    *,
    max_id: int | None,
    limit: int,
    hidden: Sequence[ColumnElement[bool]] = (),
    min_id: int | None = None,
) -> list[Post]:
    """Threads (top-level posts) in a community, newest first; `hidden`: the viewer's
    blocks and mutes (blocks.post_filters); `min_id`: only newer than it (live pages)."""
    stmt = (
        select(Post)
        .options(*POST_LOADS)
        .where(
            Post.community_id == community_id,
            Post.in_reply_to_id.is_(None),
            Post.reblog_of_id.is_(None),
            Post.visibility.in_(PUBLIC_VISIBILITIES),
            *NOT_SUSPENDED,
            *hidden,
        )
    )
    if max_id is not None:
        stmt = stmt.where(Post.id < max_id)
    if min_id is not None:
        stmt = stmt.where(Post.id > min_id)
    stmt = stmt.order_by(Post.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def pinned_posts(session: AsyncSession, community_id: int) -> list[Post]:
    stmt = (
        select(Post)
        .options(*POST_LOADS)
        .where(Post.community_id == community_id, Post.pinned_at.is_not(None))
        .order_by(Post.pinned_at.desc())
    )
    return list((await session.scalars(stmt)).all())


async def add_log(session: AsyncSession, entry: ModerationLogEntry) -> None:
    session.add(entry)
    await session.flush()


async def moderation_log(
    session: AsyncSession, community_id: int, *, limit: int = 100
) -> list[ModerationLogEntry]:
    stmt = (
        select(ModerationLogEntry)
        .options(joinedload(ModerationLogEntry.moderator), joinedload(ModerationLogEntry.target))
        .where(ModerationLogEntry.community_id == community_id)
        .order_by(ModerationLogEntry.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def joined_groups(session: AsyncSession, account_id: int) -> list[Account]:
    stmt = (
        select(Account)
        .join(Follow, Follow.target_account_id == Account.id)
        .where(
            Follow.account_id == account_id,
            Follow.state == FollowState.ACCEPTED,
            Account.actor_type == ActorType.GROUP,
        )
        .order_by(Account.username_key)
    )
    return list((await session.scalars(stmt)).all())


async def has_local_member(session: AsyncSession, community_id: int) -> bool:
    stmt = (
        select(Follow.id)
        .join(Account, Account.id == Follow.account_id)
        .where(Follow.target_account_id == community_id, Account.domain == "")
        .limit(1)
    )
    return (await session.scalar(stmt)) is not None
