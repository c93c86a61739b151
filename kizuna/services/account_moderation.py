"""Instance moderation of accounts: warn, limit, suspend (and undo), roles, sign-up approval,
and the purge of local accounts whose suspension outlived the grace period.

Follows Mastodon: a local suspension revokes sessions, keeps the data, and tells followers'
servers with an Update of the actor carrying `suspended: true` (SuspendAccountService /
UnsuspendAccountService `distribute_update_actor!`); a remote suspension hides the account,
rejects its follows of our people (SuspendAccountService `reject_remote_follows!`) and drops
ours of it. Every action writes an audit row in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kizuna.activitypub.activities import delete_actor_json, follow_json
from kizuna.activitypub.ids import delete_id, follow_id
from kizuna.background import run_until_stopped
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError, PermissionDeniedError, ValidationError
from kizuna.outbox.outbox import Outbox
from kizuna.services.accounts import AccountService
from kizuna.services.media import MediaStore
from kizuna.services.surface import Surface
from kizuna.storage import account_moderation as store
from kizuna.storage import audit, queue, repo, reports
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import Account, AccountWarning, AuditLogEntry, Report, User
from kizuna.storage.states import Role

logger = logging.getLogger(__name__)

ROLES = (Role.ADMIN, Role.MODERATOR, Role.USER)
ACCOUNT_STATES = store.STATES  # the account list's filter: "" (any), local, remote, limited…
ACTIONS = ("warn", "limit", "suspend")
MAX_WARNING_TEXT = 1000
# What an AccountWarning row and the audit log call each action.
WARNING_ACTION = {"warn": "warn", "limit": "silence", "suspend": "suspend"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDetail:
    account: Account
    user: User | None
    warnings: list[AccountWarning]
    reports: list[Report]


def _audit_target(account: Account) -> str:
    return account.uri


def _require_moderator(user: User) -> None:
    if not user.is_moderator:
        raise PermissionDeniedError("moderators and administrators only")


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDeniedError("administrators only")


async def follow_remote_suspension(
    session: Session, account: Account, suspended: bool, now: datetime
) -> None:
    """A remote actor document says `suspended: true` (its server suspended it): hide it here
    too; a later document without the flag lifts only a suspension that came this way, never
    one of our moderators' (Mastodon keeps `suspension_origin` for the same reason)."""
    if account.is_local:
        return
    if suspended and account.suspended_at is None:
        account.suspended_at = now
        await audit.record(
            session,
            account_id=None,
            action="account.suspend",
            target_type="account",
            target=_audit_target(account),
            now=now,
            reason=f"suspended by {account.domain}",
            data={"acct": account.acct, "origin": "remote"},
        )
    elif not suspended and account.suspended_at is not None:
        last = await store.last_suspension_entry(session, _audit_target(account))
        if last is None or (last.data or {}).get("origin") != "remote":
            return
        account.suspended_at = None
        await audit.record(
            session,
            account_id=None,
            action="account.unsuspend",
            target_type="account",
            target=_audit_target(account),
            now=now,
            reason=f"unsuspended by {account.domain}",
            data={"acct": account.acct, "origin": "remote"},
        )


class AccountModeration:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        accounts: AccountService,
        media: MediaStore,
        surface: Surface,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox
        self.accounts = accounts
        self.media = media
        self.surface = surface
        self.clock = clock
        self.grace = timedelta(days=config.suspension_grace_days)
        self.wakeup = asyncio.Event()

    # --- reading -------------------------------------------------------------------------

    async def search(
        self, moderator: User, text: str, *, state: str = "", max_id: int | None = None
    ) -> list[tuple[Account, User | None]]:
        _require_moderator(moderator)
        if state not in store.STATES:
            raise ValidationError(f"unknown state {state[:20]!r}", field="state")
        async with self.db.begin() as session:
            return await store.search(session, text[:100], state=state, max_id=max_id)

    async def detail(self, moderator: User, account_id: int) -> AccountDetail:
        _require_moderator(moderator)
        async with self.db.begin() as session:
            account = await repo.get_account(session, account_id)
            if account is None or account.is_instance_actor:
                raise NotFoundError("no such account")
            return AccountDetail(
                account=account,
                user=await store.user_for_account(session, account.id),
                warnings=await store.warnings_for(session, account.id),
                reports=await reports.reports_about(session, account.id),
            )

    async def audit_log(
        self, admin: User, *, limit: int, max_id: int | None = None, action: str = ""
    ) -> list[AuditLogEntry]:
        """Newest first; `action` a prefix ("account.", "domain.suspend")."""
        _require_admin(admin)
        async with self.db.begin() as session:
            return await audit.recent(session, limit=limit, max_id=max_id, action=action or None)

    async def own_warnings(self, account: Account) -> list[AccountWarning]:
        async with self.db.begin() as session:
            return await store.warnings_for(session, account.id)

    # --- actions -------------------------------------------------------------------------

    async def _target(self, session: Session, moderator: User, account_id: int) -> Account:
        account = await repo.get_account(session, account_id)
        if account is None or account.is_instance_actor:
            raise NotFoundError("no such account")
        if account.id == moderator.account_id:
            raise PermissionDeniedError("you cannot moderate your own account")
        user = await store.user_for_account(session, account.id) if account.is_local else None
        if user is not None and user.is_admin:
            raise PermissionDeniedError(
                "administrators cannot be warned, limited or suspended; change their role first"
            )
        if account.deleted_at is not None:
            raise ValidationError("this account has been deleted")
        return account

    async def apply(
        self,
        session: Session,
        moderator: User,
        account_id: int,
        action: str,
        *,
        text: str = "",
        report_id: int | None = None,
    ) -> Account:
        """warn | limit | suspend, inside the caller's transaction (a report's resolution)."""
        _require_moderator(moderator)
        if action not in ACTIONS:
            raise ValidationError("the action must be warn, limit or suspend", field="action")
        text = text.strip()
        if len(text) > MAX_WARNING_TEXT:
            raise ValidationError(
                f"the explanation is at most {MAX_WARNING_TEXT} characters", field="text"
            )
        account = await self._target(session, moderator, account_id)
        now = self.clock()
        if action == "warn" and not account.is_local:
            raise ValidationError("warnings go to this server's own accounts only")
        if action == "limit":
            if account.silenced_at is not None:
                raise ValidationError(f"@{account.acct} is limited already")
            account.silenced_at = now
        elif action == "suspend":
            if account.suspended_at is not None:
                raise ValidationError(f"@{account.acct} is suspended already")
            await self._suspend(session, account, now)
        if account.is_local:
            warning = await store.add_warning(
                session,
                AccountWarning(
                    account_id=account.id,
                    moderator_id=moderator.account_id,
                    action=WARNING_ACTION[action],
                    text=text,
                    report_id=report_id,
                    created_at=now,
                ),
            )
            await self.surface.warned(session, warning, account, now=now)
        await audit.record(
            session,
            account_id=moderator.account_id,
            action=f"account.{WARNING_ACTION[action]}",
            target_type="account",
            target=_audit_target(account),
            now=now,
            reason=text,
            data={"acct": account.acct, "report_id": str(report_id) if report_id else None},
        )
        return account

    async def _suspend(self, session: Session, account: Account, now: datetime) -> None:
        if account.is_local:
            account.suspended_at = now  # before the Update: its document says suspended
            user = await store.user_for_account(session, account.id)
            if user is not None:
                await store.revoke_sessions(session, user.id)
            await self._send_update(session, account)
            return
        # Its server still lets it read what it follows: reject those follows (Mastodon's
        # reject_remote_follows!), sent before the flag stops deliveries to it.
        for follow, target in await store.follows_of(session, account.id):
            if target.is_local:
                doc = follow_json(
                    id=follow.uri or follow_id(account.uri, follow.id),
                    actor=account.uri,
                    object=target.uri,
                )
                # One Reject per follow, all to one server: bulk, behind everyone's posts.
                await self.outbox.send_accept(
                    session, target, account, doc, accept=False, priority=queue.BULK
                )
        await store.delete_follows(session, account.id)
        account.suspended_at = now

    async def _send_update(self, session: Session, account: Account) -> None:
        """Update(Person) to followers' servers: they show (or stop showing) the suspension.
        Bulk: the suspension holds here at once, and a wave of them (a spam run's accounts)
        must not hold back people's posts."""
        await self.outbox.send_update_actor(session, account, priority=queue.BULK)

    async def act(
        self, moderator: User, account_id: int, action: str, *, text: str = ""
    ) -> Account:
        async with self.db.begin() as session:
            account = await self.apply(session, moderator, account_id, action, text=text)
        return account

    async def lift(self, moderator: User, account_id: int, action: str) -> Account:
        """Undo a limit ("limit") or a suspension ("suspend") within the grace period."""
        _require_moderator(moderator)
        async with self.db.begin() as session:
            account = await self._target(session, moderator, account_id)
            now = self.clock()
            if action == "limit":
                if account.silenced_at is None:
                    raise ValidationError(f"@{account.acct} is not limited")
                account.silenced_at = None
                name = "account.unsilence"
            elif action == "suspend":
                if account.suspended_at is None:
                    raise ValidationError(f"@{account.acct} is not suspended")
                account.suspended_at = None
                name = "account.unsuspend"
                if account.is_local:
                    await self._send_update(session, account)
            else:
                raise ValidationError("only a limit or a suspension can be lifted")
            await audit.record(
                session,
                account_id=moderator.account_id,
                action=name,
                target_type="account",
                target=_audit_target(account),
                now=now,
                data={"acct": account.acct},
            )
        return account

    async def set_role(self, admin: User, account_id: int, role: str) -> None:
        _require_admin(admin)
        if role not in ROLES:
            raise ValidationError("the role must be admin, moderator or user", field="role")
        if account_id == admin.account_id:
            raise PermissionDeniedError("you cannot change your own role")
        async with self.db.begin() as session:
            user = await store.user_for_account(session, account_id)
            if user is None:
                raise NotFoundError("no such local user")
            old = user.role
            if old == role:
                return
            if old == Role.ADMIN and await store.count_admins(session) <= 1:
                raise PermissionDeniedError("the last administrator keeps that role")
            user.role = Role(role)
            await audit.record(
                session,
                account_id=admin.account_id,
                action="account.role",
                target_type="account",
                target=_audit_target(user.account),
                now=self.clock(),
                data={"acct": user.account.acct, "from": old, "to": role},
            )

    async def decide_sign_up(self, moderator: User, account_id: int, *, approve: bool) -> None:
        _require_moderator(moderator)
        async with self.db.begin() as session:
            user = await store.user_for_account(session, account_id)
            if user is None:
                raise NotFoundError("no such local user")
            if user.approved:
                raise ValidationError(f"@{user.account.acct} is approved already")
            await audit.record(
                session,
                account_id=moderator.account_id,
                action="account.approve" if approve else "account.reject",
                target_type="account",
                target=_audit_target(user.account),
                now=self.clock(),
                reason=user.sign_up_reason,
                data={"acct": user.account.acct},
            )
            if approve:
                user.approved = True
            else:  # frees the name again, as AccountService.reject does
                await session.delete(user.account)

    # --- the purge -------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Purge local accounts suspended longer than the grace period; returns how many."""
        now = self.clock()
        async with self.db.begin() as session:
            due = await store.due_for_purge(session, now - self.grace)
        for account_id in due:
            files: list[str | None] = []
            async with self.db.begin() as session:
                account = await repo.get_account(session, account_id)
                if account is None or account.suspended_at is None or account.deleted_at:
                    continue  # lifted or purged meanwhile
                await self._purge(session, account, now)
                files = [account.avatar_path, account.header_path]
                account.avatar_path = account.header_path = None
            for path in files:
                await self.media.remove(path)
            logger.info("suspended account %s purged", account.acct)
        return len(due)

    async def _purge(self, session: Session, account: Account, now: datetime) -> None:
        """Delete(actor) to every server with followers (delete_actor_serializer.rb), then the
        data; the row stays as a marker (its key signs the Delete, its name stays taken)."""
        targets = await repo.follower_inboxes(session, account.id)
        doc = delete_actor_json(id=delete_id(account.uri), actor=account.uri)
        await self.outbox.enqueue(session, account, doc, targets, priority=queue.BULK)
        await store.purge_content(session, account.id)
        await store.delete_follows(session, account.id)
        account.deleted_at = now
        account.display_name = ""
        account.note = account.note_html = ""
        account.fields = []
        await audit.record(
            session,
            account_id=None,
            action="account.purge",
            target_type="account",
            target=_audit_target(account),
            now=now,
            reason=f"suspended for more than {self.grace.days} days",
            data={"acct": account.acct},
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped("account purge", self.run_once, self.wakeup, stop)
