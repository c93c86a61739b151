"""Following: local accounts at once, remote ones through Follow/Accept over federation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kizuna.activitypub.activities import follow_json
from kizuna.activitypub.ids import unknown_follow_id
from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, ValidationError
from kizuna.outbox.outbox import Outbox
from kizuna.services.surface import Surface
from kizuna.storage import blocks, repo
from kizuna.storage.engine import Database
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Follow
from kizuna.storage.states import FollowState


class FollowService:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        surface: Surface,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.surface = surface
        self.clock = clock

    async def follow(self, follower: Account, username: str, domain: str = "") -> Follow:
        async with self.db.begin() as session:
            target = await repo.get_account_by_username(session, username.casefold(), domain)
        if target is None or target.is_instance_actor:
            raise NotFoundError(f"no account named @{username}{'@' + domain if domain else ''}")
        return await self.follow_account(follower, target.id)

    async def follow_account(self, follower: Account, target_id: int) -> Follow:
        """Follow a person, or join a community (a Group is followed like anyone)."""
        async with self.db.begin() as session:
            target = await repo.get_account(session, target_id)
            if target is None or target.is_instance_actor:
                raise NotFoundError("no such account")
            if target.id == follower.id:
                raise ValidationError("you cannot follow yourself")
            if target.suspended_at is not None:
                raise NotFoundError("no such account")
            if await blocks.blocked_either_way(session, follower.id, [target.id]):
                raise ValidationError("you cannot follow this account")
            existing = await repo.get_follow(session, follower.id, target.id)
            if existing is not None:
                return existing
            # A remote follow stays pending until that server's Accept arrives.
            follow = Follow(
                id=new_id(),
                account_id=follower.id,
                target_account_id=target.id,
                state=(
                    FollowState.PENDING
                    if target.locked or not target.is_local
                    else FollowState.ACCEPTED
                ),
                created_at=self.clock(),
            )
            if not target.is_local:
                await self.outbox.send_follow(session, follow, follower, target)
            added = await repo.add_follow(session, follow)
            if added is follow:  # not a twin of a concurrent follow, already told
                await self.surface.followed(session, follow, target, now=self.clock())
        return added

    async def unfollow(self, follower: Account, username: str, domain: str = "") -> None:
        async with self.db.begin() as session:
            target = await repo.get_account_by_username(session, username.casefold(), domain)
        if target is None:
            raise NotFoundError(f"no account named @{username} here")
        await self.unfollow_account(follower, target.id)

    async def unfollow_account(self, follower: Account, target_id: int) -> None:
        async with self.db.begin() as session:
            target = await repo.get_account(session, target_id)
            if target is None:
                raise NotFoundError("no such account")
            follow = await repo.get_follow(session, follower.id, target.id)
            if follow is None:
                return
            if not target.is_local:
                await self.outbox.send_undo_follow(session, follow, follower, target)
            await repo.delete_follow(session, follower.id, target.id)

    async def requests(self, target: Account) -> list[Account]:
        async with self.db.begin() as session:
            return await repo.pending_followers(session, target.id)

    async def decide(self, target: Account, follower_id: int, *, accept: bool) -> None:
        """Accept or reject a pending follow request addressed to `target`."""
        async with self.db.begin() as session:
            follow = await repo.get_follow(session, follower_id, target.id)
            if follow is None or follow.state != FollowState.PENDING:
                raise NotFoundError("no such follow request")
            follower = await repo.get_account(session, follower_id)
            assert follower is not None
            if not follower.is_local:
                follow_doc = follow_json(
                    id=follow.uri or unknown_follow_id(follower.uri),
                    actor=follower.uri,
                    object=self.outbox.actor_id(target),
                )
                await self.outbox.send_accept(session, target, follower, follow_doc, accept=accept)
            if accept:
                follow.state = FollowState.ACCEPTED
            else:
                await session.delete(follow)
