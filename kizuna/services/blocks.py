"""A user's own blocks, mutes and domain blocks.

Blocking ends follows both ways (and pending requests) as Mastodon's BlockService does; a
remote account is sent `Block` (its Undo on unblock), a local one is only recorded. A domain
block removes that domain's followers of the user and the user's follows there (Mastodon's
AfterBlockDomainFromAccountService). Mutes stay private: nothing is federated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kizuna.activitypub.activities import block_json, follow_json, undo_json
from kizuna.activitypub.ids import block_id, undo_id, unknown_follow_id
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError, ValidationError
from kizuna.federation.domains import DomainError, normalize_domain
from kizuna.outbox.outbox import Outbox
from kizuna.storage import blocks, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import (
    Account,
    AccountBlock,
    AccountDomainBlock,
    AccountMute,
    Follow,
)

__all__ = ["MUTE_DURATIONS", "BlockLists", "BlockService"]

# Mute durations offered (Mastodon's web UI offers the same kind of choice); None: forever.
MUTE_DURATIONS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "forever": None,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockLists:
    blocks: list[AccountBlock]
    mutes: list[AccountMute]
    domains: list[str]


class BlockService:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox
        self.clock = clock

    # --- looking accounts up ------------------------------------------------------------

    async def account_by_acct(self, username: str, domain: str = "") -> Account:
        """A known account by `@user` or `@user@domain` (remote ones must have been seen)."""
        async with self.db.begin() as session:
            account = await repo.get_account_by_username(session, username.casefold(), domain)
        if account is None or account.is_instance_actor:
            raise NotFoundError(f"no account named @{username}{'@' + domain if domain else ''}")
        return account

    async def _target(self, session: Session, actor: Account, target_id: int) -> Account:
        target = await repo.get_account(session, target_id)
        if target is None or target.is_instance_actor:
            raise NotFoundError("no such account")
        if target.id == actor.id:
            raise ValidationError("you cannot block or mute yourself")
        return target

    # --- blocks -------------------------------------------------------------------------

    async def block(self, blocker: Account, target_id: int) -> AccountBlock:
        async with self.db.begin() as session:
            target = await self._target(session, blocker, target_id)
            existing = await blocks.get_block(session, blocker.id, target.id)
            if existing is not None:
                return existing
            await self._end_follows(session, blocker, target)
            row = AccountBlock(
                id=new_id(),
                account_id=blocker.id,
                target_account_id=target.id,
                created_at=self.clock(),
            )
            actor = self.outbox.actor_id(blocker)
            if not target.is_local:
                row.uri = block_id(actor, row.id)
            row = await blocks.add_block(session, row)
            await blocks.delete_notifications_from(session, blocker.id, from_account_id=target.id)
            if not target.is_local and row.uri:
                doc = block_json(id=row.uri, actor=actor, object=target.uri)
                await self.outbox.enqueue(session, blocker, doc, _inbox(target))
        return row

    async def unblock(self, blocker: Account, target_id: int) -> None:
        async with self.db.begin() as session:
            target = await self._target(session, blocker, target_id)
            row = await blocks.remove_block(session, blocker.id, target.id)
            if row is None or target.is_local or not row.uri:
                return
            actor = self.outbox.actor_id(blocker)
            block_doc = block_json(id=row.uri, actor=actor, object=target.uri)
            doc = undo_json(id=undo_id(row.uri), actor=actor, object=block_doc)
            await self.outbox.enqueue(session, blocker, doc, _inbox(target))

    async def _end_follows(self, session: Session, account: Account, other: Account) -> None:
        """Both directions, pending requests too; the remote side is told (Undo / Reject)."""
        mine = await repo.get_follow(session, account.id, other.id)
        if mine is not None:
            if not other.is_local:
                await self.outbox.send_undo_follow(session, mine, account, other)
            await repo.delete_follow(session, account.id, other.id)
        theirs = await repo.get_follow(session, other.id, account.id)
        if theirs is not None:
            await self._reject(session, account, other, theirs)

    async def _reject(
        self, session: Session, account: Account, follower: Account, follow: Follow
    ) -> None:
        if not follower.is_local:
            follow_doc = follow_json(
                id=follow.uri or unknown_follow_id(follower.uri),
                actor=follower.uri,
                object=self.outbox.actor_id(account),
            )
            await self.outbox.send_accept(session, account, follower, follow_doc, accept=False)
        await repo.delete_follow(session, follower.id, account.id)

    # --- mutes --------------------------------------------------------------------------

    async def mute(
        self,
        muter: Account,
        target_id: int,
        *,
        duration: str = "forever",
        notifications: bool = True,
    ) -> AccountMute:
        if duration not in MUTE_DURATIONS:
            raise ValidationError(
                f"choose a mute duration: {', '.join(MUTE_DURATIONS)}", field="duration"
            )
        length = MUTE_DURATIONS[duration]
        now = self.clock()
        async with self.db.begin() as session:
            target = await self._target(session, muter, target_id)
            return await blocks.set_mute(
                session,
                AccountMute(
                    id=new_id(),
                    account_id=muter.id,
                    target_account_id=target.id,
                    notifications=notifications,
                    expires_at=now + length if length is not None else None,
                    created_at=now,
                ),
            )

    async def unmute(self, muter: Account, target_id: int) -> None:
        async with self.db.begin() as session:
            target = await self._target(session, muter, target_id)
            await blocks.remove_mute(session, muter.id, target.id)

    # --- domain blocks ------------------------------------------------------------------

    def _domain(self, text: str) -> str:
        try:
            domain = normalize_domain(text)
        except DomainError as exc:
            raise ValidationError(str(exc), field="domain") from None
        if domain in self.config.own_hosts:
            raise ValidationError("that is the domain of this server itself", field="domain")
        return domain

    async def block_domain(self, account: Account, text: str) -> str:
        """Hide everything from one remote domain (exactly that host, as Mastodon's user
        domain blocks): its followers of the user and the user's follows there end."""
        domain = self._domain(text)
        async with self.db.begin() as session:
            row = AccountDomainBlock(account_id=account.id, domain=domain, created_at=self.clock())
            if not await blocks.add_domain_block(session, row):
                return domain
            outgoing, incoming = await blocks.follows_with_domain(session, account.id, domain)
            others = {
                a.id: a
                for a in await repo.get_accounts_by_ids(
                    session,
                    [f.target_account_id for f in outgoing] + [f.account_id for f in incoming],
                )
            }
            for follow in outgoing:
                target = others[follow.target_account_id]
                await self.outbox.send_undo_follow(session, follow, account, target)
                await repo.delete_follow(session, account.id, target.id)
            for follow in incoming:
                await self._reject(session, account, others[follow.account_id], follow)
            await blocks.delete_notifications_from(session, account.id, domain=domain)
        return domain

    async def unblock_domain(self, account: Account, text: str) -> None:
        try:
            domain = normalize_domain(text)
        except DomainError as exc:
            raise ValidationError(str(exc), field="domain") from None
        async with self.db.begin() as session:
            if not await blocks.remove_domain_block(session, account.id, domain):
                raise NotFoundError(f"you do not hide {domain}")

    # --- reading ------------------------------------------------------------------------

    async def lists(self, account: Account) -> BlockLists:
        async with self.db.begin() as session:
            return BlockLists(
                blocks=await blocks.blocked_accounts(session, account.id),
                mutes=await blocks.muted_accounts(session, account.id, self.clock()),
                domains=[d.domain for d in await blocks.domain_blocks(session, account.id)],
            )


def _inbox(account: Account) -> list[tuple[str, str]]:
    """The account's own inbox: a Block concerns one actor (Mastodon sends it there)."""
    if account.is_local or not account.inbox_url or account.suspended_at is not None:
        return []
    return [(account.inbox_url, account.domain)]
