"""Reports (by our users, or Flags from other servers) and their moderator notes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from kizuna.storage.models import Account, Post, Report, ReportNote
from kizuna.storage.repo import POST_LOADS
from kizuna.storage.states import ReportState

PAGE_SIZE = 40


async def add_report(session: AsyncSession, report: Report) -> Report:
    session.add(report)
    await session.flush()
    return report


async def get_report(session: AsyncSession, report_id: int) -> Report | None:
    stmt = (
        select(Report)
        .where(Report.id == report_id)
        .options(joinedload(Report.reporter), joinedload(Report.target))
    )
    return (await session.scalars(stmt)).first()


async def get_report_by_uri(session: AsyncSession, uri: str) -> Report | None:
    return (await session.scalars(select(Report).where(Report.uri == uri))).first()


async def list_reports(
    session: AsyncSession, *, state: str, max_id: int | None, limit: int = PAGE_SIZE
) -> list[Report]:
    stmt = (
        select(Report)
        .where(Report.state == state)
        .options(joinedload(Report.reporter), joinedload(Report.target))
        .order_by(Report.id.desc())
        .limit(limit)
    )
    if max_id is not None:
        stmt = stmt.where(Report.id < max_id)
    return list((await session.scalars(stmt)).all())


async def count_open(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Report).where(Report.state == ReportState.OPEN)
    return int(await session.scalar(stmt) or 0)


async def reports_about(
    session: AsyncSession, account_id: int, *, limit: int = PAGE_SIZE
) -> list[Report]:
    stmt = (
        select(Report)
        .where(Report.target_account_id == account_id)
        .options(joinedload(Report.reporter), joinedload(Report.target))
        .order_by(Report.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def posts_by_ids(session: AsyncSession, post_ids: Sequence[int]) -> list[Post]:
    """The reported posts still stored (a deleted one is simply gone), oldest first."""
    if not post_ids:
        return []
    stmt = select(Post).where(Post.id.in_(set(post_ids))).options(*POST_LOADS).order_by(Post.id)
    return list((await session.scalars(stmt)).all())


async def local_posts_by_uris(session: AsyncSession, uris: Sequence[str]) -> list[Post]:
    if not uris:
        return []
    stmt = select(Post).where(Post.uri.in_(set(uris)), Post.local.is_(True))
    return list((await session.scalars(stmt)).all())


async def local_accounts_by_uris(session: AsyncSession, uris: Sequence[str]) -> list[Account]:
    """Our people named by uri or profile url (Mastodon's account_from_uri takes both)."""
    if not uris:
        return []
    wanted = set(uris)
    stmt = select(Account).where(
        Account.domain == "",
        Account.actor_type != "Application",
        or_(Account.uri.in_(wanted), Account.url.in_(wanted)),
    )
    return list((await session.scalars(stmt)).all())


async def add_note(session: AsyncSession, note: ReportNote) -> ReportNote:
    session.add(note)
    await session.flush()
    return note


async def notes_for(
    session: AsyncSession, report_id: int
) -> list[tuple[ReportNote, Account | None]]:
    stmt = (
        select(ReportNote, Account)
        .outerjoin(Account, Account.id == ReportNote.account_id)
        .where(ReportNote.report_id == report_id)
        .order_by(ReportNote.id)
    )
    return [(note, account) for note, account in (await session.execute(stmt)).all()]
