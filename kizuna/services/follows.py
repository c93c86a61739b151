"""Following local accounts (remote follows arrive with federation)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kizuna.errors import NotFoundError, ValidationError
from kizuna.services.accounts import utcnow
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.models import Account, Follow


class FollowService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def follow(self, follower: Account, username: str, domain: str = "") -> Follow:
        async with self.db.begin() as session:
            target = await repo.get_account_by_username(session, username.casefold(), domain)
            if target is None or target.actor_type == "Application":
                raise NotFoundError(f"no account named @{username}{'@' + domain if domain else ''}")
            if target.id == follower.id:
                raise ValidationError("you cannot follow yourself")
            # A remote follow stays pending until that server's Accept arrives.
            state = "pending" if target.locked or not target.is_local else "accepted"
            return await repo.add_follow(
                session,
                Follow(
                    account_id=follower.id,
                    target_account_id=target.id,
                    state=state,
                    created_at=self.clock(),
                ),
            )

    async def unfollow(self, follower: Account, username: str, domain: str = "") -> None:
        async with self.db.begin() as session:
            target = await repo.get_account_by_username(session, username.casefold(), domain)
            if target is None:
                raise NotFoundError(f"no account named @{username} here")
            await repo.delete_follow(session, follower.id, target.id)

    async def requests(self, target: Account) -> list[Account]:
        async with self.db.begin() as session:
            return await repo.pending_followers(session, target.id)

    async def decide(self, target: Account, follower_id: int, *, accept: bool) -> None:
        """Accept or reject a pending follow request addressed to `target`."""
        async with self.db.begin() as session:
            follow = await repo.get_follow(session, follower_id, target.id)
            if follow is None or follow.state != "pending":
                raise NotFoundError("no such follow request")
            if accept:
                follow.state = "accepted"
            else:
                await session.delete(follow)
