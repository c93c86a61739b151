"""Reports: a user reports an account (and some of its posts) to our moderators, optionally
forwarded to the account's server as an anonymous `Flag`; moderators work the queue.

Mastodon's ReportService / ReportForwardingService: the Flag comes from the instance actor,
goes to the reported account's inbox, and names the account and the posts
(app/serializers/activitypub/flag_serializer.rb). Incoming Flags: kizuna/inbox/handlers/flag.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kizuna.activitypub.flags import flag_json
from kizuna.activitypub.ids import flag_id
from kizuna.activitypub.vocab import Visibility
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError, PermissionDeniedError, ValidationError
from kizuna.outbox.outbox import Outbox
from kizuna.services.account_moderation import AccountModeration
from kizuna.services.accounts import AccountService
from kizuna.services.posts import can_see
from kizuna.storage import audit, repo, reports
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import Account, Post, Report, ReportNote, User
from kizuna.storage.states import ReportState

CATEGORIES = ("spam", "legal", "violation", "other")
MAX_COMMENT = 1000
MAX_NOTE = 1000
MAX_POSTS = 20
RECENT_POSTS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportForm:
    target: Account
    chosen: list[Post]  # the posts the report starts from (post=ID)
    recent: list[Post]  # more of the account's posts the reporter can see, to tick


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportDetail:
    report: Report
    posts: list[Post]
    notes: list[tuple[ReportNote, Account | None]]
    assigned: Account | None
    resolved_by: Account | None


def _clean_post_ids(post_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(post_ids))
    if len(ids) > MAX_POSTS:
        raise ValidationError(f"a report names at most {MAX_POSTS} posts", field="post")
    return ids


class ReportService:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        accounts: AccountService,
        moderation: AccountModeration,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox
        self.accounts = accounts
        self.moderation = moderation
        self.clock = clock

    # --- reporting -------------------------------------------------------------------------

    async def _target(self, session: Session, reporter: Account, account_id: int) -> Account:
        target = await repo.get_account(session, account_id)
        if (
            target is None
            or target.is_instance_actor
            or target.suspended_at is not None
            or target.deleted_at is not None
        ):
            raise NotFoundError("no such account")
        if target.id == reporter.id:
            raise ValidationError("you cannot report yourself")
        return target

    async def _posts(
        self, session: Session, reporter: Account, target: Account, post_ids: Sequence[int]
    ) -> list[Post]:
        """Only posts the reporter can see, and only the reported account's."""
        posts = []
        for post_id in _clean_post_ids(post_ids):
            post = await repo.get_post(session, post_id)
            if post is None or not await can_see(session, post, reporter):
                raise NotFoundError(f"post {post_id} does not exist or is not visible to you")
            if post.account_id != target.id:
                raise ValidationError(f"post {post_id} is not by @{target.acct}", field="post")
            posts.append(post)
        return posts

    async def form(self, reporter: Account, account_id: int, post_ids: Sequence[int]) -> ReportForm:
        async with self.db.begin() as session:
            target = await self._target(session, reporter, account_id)
            chosen = await self._posts(session, reporter, target, post_ids)
            recent = await repo.account_timeline(
                session,
                target.id,
                visibilities=(Visibility.PUBLIC.value, Visibility.UNLISTED.value),
                max_id=None,
                limit=RECENT_POSTS,
            )
        picked = {p.id for p in chosen}
        others = [p for p in recent if p.id not in picked and p.reblog_of_id is None]
        return ReportForm(target=target, chosen=chosen, recent=others)

    async def create(
        self,
        reporter: Account,
        account_id: int,
        *,
        post_ids: Sequence[int] = (),
        category: str = "other",
        comment: str = "",
        forward: bool = False,
    ) -> Report:
        """Stores the report; with `forward` (a remote account), also queues the Flag."""
        comment = comment.replace("\r\n", "\n").strip()
        if category not in CATEGORIES:
            raise ValidationError(
                "the category must be spam, legal, violation or other", field="category"
            )
        if len(comment) > MAX_COMMENT:
            raise ValidationError(f"a comment is at most {MAX_COMMENT} characters", field="comment")
        instance = await self.accounts.instance_actor() if forward else None
        now = self.clock()
        async with self.db.begin() as session:
            target = await self._target(session, reporter, account_id)
            posts = await self._posts(session, reporter, target, post_ids)
            forward = forward and not target.is_local
            report = await reports.add_report(
                session,
                Report(
                    reporter_id=reporter.id,
                    target_account_id=target.id,
                    post_ids=[p.id for p in posts],
                    category=category,
                    comment=comment,
                    origin_domain="",
                    forward=forward,
                    state=ReportState.OPEN,
                    created_at=now,
                    updated_at=now,
                ),
            )
            if forward and instance is not None:
                await self._forward(session, report, instance, target, posts, now)
        return report

    async def _forward(
        self,
        session: Session,
        report: Report,
        instance: Account,
        target: Account,
        posts: list[Post],
        now: datetime,
    ) -> None:
        report.uri = flag_id(self.config.base_url, str(uuid.uuid4()))
        doc = flag_json(
            id=report.uri,
            actor=self.outbox.actor_id(instance),
            content=report.comment,
            objects=[target.uri, *(p.uri for p in posts)],
        )
        inbox = target.inbox_url or target.shared_inbox_url
        if inbox:
            await self.outbox.enqueue(session, instance, doc, [(inbox, target.domain)])
            report.forwarded_at = now

    # --- the moderators' queue -------------------------------------------------------------

    async def queue(
        self, moderator: User, *, state: str = ReportState.OPEN, max_id: int | None = None
    ) -> list[Report]:
        self._require(moderator)
        if state not in tuple(ReportState):
            raise ValidationError("state must be open or resolved")
        async with self.db.begin() as session:
            return await reports.list_reports(session, state=state, max_id=max_id)

    async def detail(self, moderator: User, report_id: int) -> ReportDetail:
        self._require(moderator)
        async with self.db.begin() as session:
            report = await self._report(session, report_id)
            people = {
                a.id: a
                for a in await repo.get_accounts_by_ids(
                    session, [i for i in (report.assigned_id, report.resolved_by_id) if i]
                )
            }
            return ReportDetail(
                report=report,
                posts=await reports.posts_by_ids(session, report.post_ids or []),
                notes=await reports.notes_for(session, report.id),
                assigned=people.get(report.assigned_id or 0),
                resolved_by=people.get(report.resolved_by_id or 0),
            )

    def _require(self, moderator: User) -> None:
        if not moderator.is_moderator:
            raise PermissionDeniedError("moderators and administrators only")

    async def _report(self, session: Session, report_id: int) -> Report:
        report = await reports.get_report(session, report_id)
        if report is None:
            raise NotFoundError("no such report")
        return report

    async def _log(
        self, session: Session, moderator: User, verb: str, report: Report, **kw: str
    ) -> None:
        await audit.record(
            session,
            account_id=moderator.account_id,
            action=f"report.{verb}",
            target_type="report",
            target=str(report.id),
            now=self.clock(),
            reason=kw.pop("reason", ""),
            data={"acct": report.target.acct, **kw},
        )

    async def add_note(self, moderator: User, report_id: int, text: str) -> None:
        self._require(moderator)
        text = text.replace("\r\n", "\n").strip()
        if not text or len(text) > MAX_NOTE:
            raise ValidationError(f"a note is 1 to {MAX_NOTE} characters", field="note")
        async with self.db.begin() as session:
            report = await self._report(session, report_id)
            await reports.add_note(
                session,
                ReportNote(
                    report_id=report.id,
                    account_id=moderator.account_id,
                    text=text,
                    created_at=self.clock(),
                ),
            )
            report.updated_at = self.clock()
            await self._log(session, moderator, "note", report, reason=text)

    async def assign_to_self(self, moderator: User, report_id: int) -> None:
        self._require(moderator)
        async with self.db.begin() as session:
            report = await self._report(session, report_id)
            report.assigned_id = moderator.account_id
            report.updated_at = self.clock()
            await self._log(session, moderator, "assign", report)

    async def resolve(
        self, moderator: User, report_id: int, *, action: str = "", text: str = ""
    ) -> Report:
        """Close the report; `action` warn | limit | suspend also acts on the reported account,
        all in one transaction (a refused action leaves the report open)."""
        self._require(moderator)
        async with self.db.begin() as session:
            report = await self._report(session, report_id)
            if report.state == ReportState.RESOLVED:
                raise ValidationError("this report is resolved already")
            if action:
                await self.moderation.apply(
                    session,
                    moderator,
                    report.target_account_id,
                    action,
                    text=text,
                    report_id=report.id,
                )
            now = self.clock()
            report.state = ReportState.RESOLVED
            report.action_taken = action or None
            report.resolved_by_id = moderator.account_id
            report.resolved_at = now
            report.updated_at = now
            await self._log(session, moderator, "resolve", report, reason=text, action=action)
        return report

    async def reopen(self, moderator: User, report_id: int) -> None:
        self._require(moderator)
        async with self.db.begin() as session:
            report = await self._report(session, report_id)
            if report.state != ReportState.RESOLVED:
                raise ValidationError("this report is open already")
            report.state = ReportState.OPEN
            report.resolved_at = None
            report.resolved_by_id = None
            report.updated_at = self.clock()
            await self._log(session, moderator, "reopen", report)
