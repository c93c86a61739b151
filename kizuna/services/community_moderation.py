"""Moderating one of our communities: approve joins, remove posts, ban, pin, appoint.

Every action is logged in the community's moderation log and, where other servers hold a
copy, federated in Lemmy's shape (a moderator's activity announced by the group).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kizuna.activitypub.activities import undo_json
from kizuna.activitypub.groups import (
    moderator_add_json,
    moderator_block_json,
    moderator_delete_json,
)
from kizuna.activitypub.ids import featured_url, group_activity_id
from kizuna.clock import utcnow
from kizuna.errors import NotFoundError, PermissionDeniedError, ValidationError
from kizuna.outbox import groups
from kizuna.outbox.outbox import Outbox
from kizuna.services.follows import FollowService
from kizuna.storage import communities, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, CommunityBan, ModerationLogEntry, Post
from kizuna.storage.states import CommunityRank

MAX_REASON = 500


class CommunityModeration:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        follows: FollowService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.follows = follows
        self.clock = clock

    async def _require(
        self, session: Session, group_id: int, moderator: Account, *, owner: bool = False
    ) -> Account:
        group = await repo.get_account(session, group_id)
        if group is None or not group.is_group or not group.is_local:
            raise NotFoundError("no such community here")
        role = await communities.role_of(session, group.id, moderator.id)
        if role is None or (owner and role != CommunityRank.OWNER):
            raise PermissionDeniedError(
                f"only the {'owner' if owner else 'moderators'} of !{group.acct} may do that"
            )
        return group

    async def _log(
        self,
        session: Session,
        group: Account,
        moderator: Account,
        action: str,
        *,
        target: Account | None = None,
        post_uri: str | None = None,
        reason: str = "",
    ) -> None:
        await communities.add_log(
            session,
            ModerationLogEntry(
                community_id=group.id,
                moderator_id=moderator.id,
                action=action,
                target_account_id=target.id if target else None,
                post_uri=post_uri,
                reason=reason,
                created_at=self.clock(),
            ),
        )

    async def decide(
        self, group_id: int, moderator: Account, account_id: int, *, accept: bool
    ) -> None:
        async with self.db.begin() as session:
            group = await self._require(session, group_id, moderator)
            target = await repo.get_account(session, account_id)
        await self.follows.decide(group, account_id, accept=accept)
        async with self.db.begin() as session:
            await self._log(
                session, group, moderator, "approve" if accept else "reject", target=target
            )

    async def remove_post(
        self, group_id: int, moderator: Account, post_id: int, *, reason: str = ""
    ) -> None:
        reason = _reason(reason)
        async with self.db.begin() as session:
            group = await self._require(session, group_id, moderator)
            post = await repo.get_post(session, post_id)
            if post is None or post.community_id != group.id:
                raise NotFoundError("no such post in this community")
            delete = moderator_delete_json(
                id=group_activity_id(group.uri, "delete", new_id()),
                moderator=self.outbox.actor_id(moderator),
                object_id=post.uri,
                group=group.uri,
                reason=reason,
            )
            await groups.announce(self.outbox, session, group, delete, extra=[post.account])
            await self._log(
                session,
                group,
                moderator,
                "remove_post",
                target=post.account,
                post_uri=post.uri,
                reason=reason,
            )
            await remove_from_community(session, post)

    async def ban(
        self, group_id: int, moderator: Account, account_id: int, *, reason: str = ""
    ) -> None:
        reason = _reason(reason)
        async with self.db.begin() as session:
            group = await self._require(session, group_id, moderator)
            target = await repo.get_account(session, account_id)
            if target is None:
                raise NotFoundError("no such account")
            if await communities.role_of(session, group.id, target.id) is not None:
                raise ValidationError("a moderator cannot be banned; remove the role first")
            block = moderator_block_json(
                id=group_activity_id(group.uri, "block", new_id()),
                moderator=self.outbox.actor_id(moderator),
                object=target.uri,
                group=group.uri,
                reason=reason,
            )
            await groups.announce(self.outbox, session, group, block, extra=[target])
            await communities.add_ban(
                session,
                CommunityBan(
                    community_id=group.id,
                    account_id=target.id,
                    reason=reason,
                    uri=block["id"],
                    created_at=self.clock(),
                ),
            )
            await repo.delete_follow(session, target.id, group.id)  # membership ends
            await self._log(session, group, moderator, "ban", target=target, reason=reason)

    async def unban(self, group_id: int, moderator: Account, account_id: int) -> None:
        async with self.db.begin() as session:
            group = await self._require(session, group_id, moderator)
            target = await repo.get_account(session, account_id)
            ban = await communities.get_ban(session, group_id, account_id)
            if target is None or ban is None:
                raise NotFoundError("this account is not banned here")
            block = moderator_block_json(
                id=ban.uri or group_activity_id(group.uri, "block", new_id()),
                moderator=self.outbox.actor_id(moderator),
                object=target.uri,
                group=group.uri,
            )
            undo = undo_json(
                id=group_activity_id(group.uri, "undo", new_id()),
                actor=self.outbox.actor_id(moderator),
                object=block,
            )
            undo["audience"] = group.uri
            await groups.announce(self.outbox, session, group, undo, extra=[target])
            await communities.remove_ban(session, group.id, target.id)
            await self._log(session, group, moderator, "unban", target=target)

    async def pin(self, group_id: int, moderator: Account, post_id: int, *, pinned: bool) -> None:
        async with self.db.begin() as session:
            group = await self._require(session, group_id, moderator)
            post = await repo.get_post(session, post_id)
            if post is None or post.community_id != group.id or post.in_reply_to_id:
                raise NotFoundError("no such thread in this community")
            if (post.pinned_at is not None) == pinned:
                return
            post.pinned_at = self.clock() if pinned else None
            doc = moderator_add_json(
                id=group_activity_id(group.uri, "add" if pinned else "remove", new_id()),
                kind="Add" if pinned else "Remove",
                moderator=self.outbox.actor_id(moderator),
                object_id=post.uri,
                target=group.featured_url or featured_url(group.uri),
                group=group.uri,
            )
            await groups.announce(self.outbox, session, group, doc)
            await self._log(
                session,
                group,
                moderator,
                "pin" if pinned else "unpin",
                target=post.account,
                post_uri=post.uri,
            )

    async def appoint(
        self, group_id: int, owner: Account, account_id: int, *, moderator: bool
    ) -> None:
        """The owner makes a local member a moderator, or takes the role back."""
        async with self.db.begin() as session:
            group = await self._require(session, group_id, owner, owner=True)
            target = await repo.get_account(session, account_id)
            if target is None or not target.is_local or target.id == owner.id:
                raise ValidationError("only another local member can be a moderator")
            if moderator and not await repo.follows_accepted(session, target.id, group.id):
                raise ValidationError("only a member can be a moderator")
            role = CommunityRank.MODERATOR if moderator else None
            await communities.set_role(session, group.id, target.id, role, self.clock())
            action = "add_moderator" if moderator else "remove_moderator"
            await self._log(session, group, owner, action, target=target)


async def remove_from_community(session: Session, post: Post) -> None:
    """A removed post leaves the community. A remote copy goes; an author's own post on
    their home server stays theirs, only no longer in the community."""
    if post.local:
        post.community_id = None
        post.pinned_at = None
    else:
        await repo.delete_post(session, post.id)


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise ValidationError(f"a reason holds at most {MAX_REASON} characters", field="reason")
    return reason
