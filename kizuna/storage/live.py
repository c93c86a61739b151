"""What live streams read besides the timelines themselves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kizuna.storage.models import Follow
from kizuna.storage.states import FollowState


async def followed_ids(session: AsyncSession, account_id: int) -> list[int]:
    """Accounts (and communities) `account_id` follows with an accepted follow."""
    stmt = select(Follow.target_account_id).where(
        Follow.account_id == account_id, Follow.state == FollowState.ACCEPTED
    )
    return list((await session.scalars(stmt)).all())
