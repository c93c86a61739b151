"""Custom emoji queries: ours (domain "") and other servers' (cached). Session first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kizuna.storage.models import CustomEmoji
from kizuna.storage.repo import like_pattern

__all__ = [
    "add_local",
    "by_ids",
    "delete",
    "get_local",
    "get_many",
    "get_many_local",
    "get_remote",
    "list_local",
    "local_shortcode_taken",
    "search_local",
    "upsert_remote",
]


async def get_local(session: AsyncSession, shortcode: str) -> CustomEmoji | None:
    return await get_remote(session, shortcode, "")


async def local_shortcode_taken(session: AsyncSession, shortcode: str) -> bool:
    """Whether one of ours has this shortcode in any letter case ("Blob" blocks "blob")."""
    found = await session.scalar(
        select(CustomEmoji.id).where(
            CustomEmoji.domain == "", func.lower(CustomEmoji.shortcode) == shortcode.lower()
        )
    )
    return found is not None


async def get_many_local(
    session: AsyncSession, shortcodes: Iterable[str]
) -> dict[str, CustomEmoji]:
    """Our emoji among `shortcodes` (exact, case-sensitive as Mastodon), by shortcode."""
    return await get_many(session, shortcodes, "")


async def get_many(
    session: AsyncSession, shortcodes: Iterable[str], domain: str
) -> dict[str, CustomEmoji]:
    """One domain's emoji among `shortcodes`, by shortcode ("" = ours)."""
    wanted = sorted(set(shortcodes))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(CustomEmoji).where(CustomEmoji.domain == domain, CustomEmoji.shortcode.in_(wanted))
    )
    return {e.shortcode: e for e in rows}


async def list_local(session: AsyncSession) -> Sequence[CustomEmoji]:
    """Every emoji of ours, by category then shortcode (the admin list)."""
    rows = await session.scalars(
        select(CustomEmoji)
        .where(CustomEmoji.domain == "")
        .order_by(CustomEmoji.category, CustomEmoji.shortcode)
    )
    return rows.all()


async def search_local(session: AsyncSession, text: str, limit: int) -> Sequence[CustomEmoji]:
    """Picker search: our emoji shown in the picker whose shortcode or category contains
    `text` (case-insensitive); shortcodes starting with it first."""
    needle = text.strip().strip(":").casefold()
    stmt = select(CustomEmoji).where(
        CustomEmoji.domain == "", CustomEmoji.visible_in_picker.is_(True)
    )
    if needle:
        pattern = like_pattern(needle)
        stmt = stmt.where(
            or_(
                func.lower(CustomEmoji.shortcode).like(pattern, escape="\\"),
                func.lower(CustomEmoji.category).like(pattern, escape="\\"),
            )
        )
        prefix = like_pattern(needle)[1:]  # "text%": starts with
        starts = func.lower(CustomEmoji.shortcode).like(prefix, escape="\\")
        stmt = stmt.order_by(starts.desc(), CustomEmoji.shortcode)
    else:
        stmt = stmt.order_by(CustomEmoji.category, CustomEmoji.shortcode)
    rows = await session.scalars(stmt.limit(limit))
    return rows.all()


async def get_remote(session: AsyncSession, shortcode: str, domain: str) -> CustomEmoji | None:
    found: CustomEmoji | None = await session.scalar(
        select(CustomEmoji).where(CustomEmoji.shortcode == shortcode, CustomEmoji.domain == domain)
    )
    return found


async def add_local(
    session: AsyncSession,
    *,
    shortcode: str,
    image_path: str,
    category: str,
    local_only: bool,
    now: datetime,
) -> CustomEmoji | None:
    """A new emoji of ours; None when the shortcode was taken meanwhile (unique index)."""
    row = CustomEmoji(
        shortcode=shortcode,
        domain="",
        image_path=image_path,
        remote_url=None,
        uri=None,
        category=category,
        local_only=local_only,
        visible_in_picker=True,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


async def upsert_remote(
    session: AsyncSession,
    *,
    shortcode: str,
    domain: str,
    remote_url: str,
    uri: str | None,
    image_path: str | None,
    now: datetime,
) -> CustomEmoji:
    """Insert or update another server's emoji (a concurrent insert of the same one is
    absorbed: the row that won is updated instead)."""
    if not domain:
        raise ValueError("a remote emoji needs its domain")
    row = await get_remote(session, shortcode, domain)
    if row is None:
        try:
            async with session.begin_nested():
                row = CustomEmoji(
                    shortcode=shortcode,
                    domain=domain,
                    image_path=image_path,
                    remote_url=remote_url,
                    uri=uri,
                    category="",
                    local_only=False,
                    visible_in_picker=False,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
            return row
        except IntegrityError:
            row = await get_remote(session, shortcode, domain)
            assert row is not None
    row.remote_url = remote_url
    row.uri = uri or row.uri
    row.image_path = image_path
    row.updated_at = now
    return row


async def delete(session: AsyncSession, emoji_id: int) -> CustomEmoji | None:
    """Delete one emoji (reactions made with it go too: ON DELETE CASCADE); the deleted row."""
    row = await session.get(CustomEmoji, emoji_id)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return row


async def by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, CustomEmoji]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(CustomEmoji).where(CustomEmoji.id.in_(wanted)))
    return {e.id: e for e in rows}
