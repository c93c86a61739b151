"""Turns stored inbox activities into state: follows, posts, deletions. Idempotent.

Each activity is leased, dispatched by type, and marked processed; a handler that fails is
retried a few times (`queue.MAX_INBOX_ATTEMPTS`) with its error kept on the row.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from kizuna.activitypub.objects import (
    Announce,
    Block,
    Delete,
    EmojiReact,
    Follow,
    Like,
    Move,
    ObjectActivity,
    Response,
    Undo,
    Unknown,
    parse_activity,
    parse_note,
)
from kizuna.activitypub.vocab import get_id
from kizuna.background import run_until_stopped
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import KizunaError
from kizuna.federation.errors import DomainRefusedError, IdentityMismatchError, PeerUnavailableError
from kizuna.federation.policy import OPEN, Decision, FederationPolicy
from kizuna.inbox.flags import FlagInbox
from kizuna.inbox.groups import GroupInbox
from kizuna.inbox.notes import NoteStore, parse_time
from kizuna.inbox.reactions import ReactionInbox, RemoteEmoji
from kizuna.outbox.outbox import Outbox
from kizuna.services.account_moderation import follow_remote_suspension
from kizuna.storage import blocks, communities, interactions, queue, repo
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import Account, AccountBlock, InboxActivity, Post
from kizuna.storage.models import Follow as FollowRow
from kizuna.storage.states import FollowState

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
SUSPENDED_MAY_SEND = frozenset({"Delete", "Reject", "Undo", "Update"})


class InboxProcessor:
    def __init__(
        self,
        db: Database,
        config: Config,
        outbox: Outbox,
        notes: NoteStore,
        remote_emoji: RemoteEmoji,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 64,
        policy: FederationPolicy | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.policy = policy
        self.outbox = outbox
        self.notes = notes
        self.clock = clock
        self.batch = batch
        self.wakeup = asyncio.Event()
        self.groups = GroupInbox(outbox, notes, clock)
        self.reactions = ReactionInbox(self.groups, remote_emoji, clock)
        self.flags = FlagInbox(policy, clock)

    async def run_single_cycle(self) -> int:
        now = self.clock()
        async with self.db.begin() as session:
            rows = await queue.claim_inbox(
                session,
                owner=secrets.token_hex(8),
                now=now,
                lease_until=now + LEASE,
                limit=self.batch,
            )
        for row in rows:
            error, final = None, True
            try:
                # Applied and marked done in one transaction: one commit per activity.
                async with self.db.begin() as session:
                    await self.dispatch(session, row)
                    await queue.settle_inbox(
                        session, row, now=self.clock(), error=None, retry_at=None
                    )
                continue
            except PeerUnavailableError as exc:
                # The origin may answer later: kept for another attempt (at most a few).
                error, final = f"{type(exc).__name__}: {exc}", False
                logger.info("inbox %s %s waits: %s", row.activity_type, row.activity_id, exc)
            except KizunaError as exc:
                error = f"{type(exc).__name__}: {exc}"  # refused for good, reason kept
                logger.info("inbox %s %s refused: %s", row.activity_type, row.activity_id, exc)
            except Exception as exc:
                error, final = f"{type(exc).__name__}: {exc}", False
                logger.exception("inbox %s %s failed", row.activity_type, row.activity_id)
            now = self.clock()
            retry_at = None if final else now + timedelta(minutes=2**row.attempts)
            async with self.db.begin() as session:
                await queue.settle_inbox(session, row, now=now, error=error, retry_at=retry_at)
        return len(rows)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped("inbox", self.run_single_cycle, self.wakeup, stop)

    async def dispatch(self, session: Session, row: InboxActivity) -> None:
        actor = await repo.get_account_by_uri(session, row.actor_uri)
        if actor is None:
            raise KizunaError(f"unknown sender {row.actor_uri}")
        decision = await self._decide(actor.domain)
        if decision.refused:
            # Accepted before the server was suspended (or allow-listing began): not applied.
            raise DomainRefusedError(f"{decision.reason}: {actor.domain}", reason=decision.reason)
        if actor.suspended_at is not None and row.activity_type not in SUSPENDED_MAY_SEND:
            # Mastodon's ProcessCollectionService: a suspended account may only retract.
            logger.info("ignoring %s from suspended %s", row.activity_type, actor.acct)
            return
        activity = parse_activity(row.raw)
        match activity:
            case Follow():
                await self.handle_follow(session, actor, activity)
            case Response():
                await self.handle_response(session, actor, activity)
            case Undo():
                await self.handle_undo(session, actor, activity)
            case ObjectActivity(kind="Create"):
                await self.handle_create(session, actor, activity)
            case ObjectActivity(kind="Update"):
                await self.handle_update(session, actor, activity)
            case Delete():
                await self.handle_delete(session, actor, activity)
            case Like() | EmojiReact():
                await self.handle_like(session, actor, activity)
            case Announce():
                await self.handle_announce(session, actor, activity)
            case Block():
                await self.handle_block(session, actor, activity)
            case Move():
                await self.handle_move(session, actor, activity)
            case Unknown(type="Flag"):
                await self.flags.received(session, actor, activity.raw)
            case _:
                logger.debug("ignoring %s %s", row.activity_type, row.activity_id)

    async def _decide(self, domain: str) -> Decision:
        return OPEN if self.policy is None else (await self.policy.fresh()).decide(domain)

    async def handle_follow(self, session: Session, actor: Account, follow: Follow) -> None:
        target = await repo.get_account_by_uri(session, follow.object)
        if target is None or not target.is_local or target.actor_type == "Application":
            return  # not one of ours: nothing to accept
        if await communities.get_ban(session, target.id, actor.id) is not None:
            await self.outbox.send_accept(session, target, actor, follow.raw, accept=False)
            return  # banned from this community: no membership, not even pending
        if await blocks.get_block(session, target.id, actor.id) is not None or (
            await blocks.has_domain_block(session, target.id, actor.domain)
        ):
            # Mastodon's ActivityPub::Activity::Follow rejects what the target blocks.
            await self.outbox.send_accept(session, target, actor, follow.raw, accept=False)
            return
        existing = await repo.get_follow(session, actor.id, target.id)
        if existing is None:
            # From a limited account or server, every follow waits for approval (Mastodon).
            limited = actor.silenced_at is not None or (await self._decide(actor.domain)).silenced
            existing = await repo.add_follow(
                session,
                FollowRow(
                    account_id=actor.id,
                    target_account_id=target.id,
                    state=FollowState.PENDING if target.locked or limited else FollowState.ACCEPTED,
                    uri=follow.id,
                    created_at=self.clock(),
                ),
            )
            await interactions.notify_new_follow(session, existing, target, now=self.clock())
        else:
            existing.uri = follow.id
        if existing.state == FollowState.ACCEPTED:
            # Also on a repeated Follow: the first Accept may have been lost (Mastodon resends).
            await self.outbox.send_accept(session, target, actor, follow.raw)

    async def handle_response(self, session: Session, actor: Account, response: Response) -> None:
        follow = await repo.get_follow_by_uri(session, response.follow_id or "")
        if follow is None and response.follow_actor:
            local = await repo.get_account_by_uri(session, response.follow_actor)
            if local is not None:
                follow = await repo.get_follow(session, local.id, actor.id)
        if follow is None or follow.target_account_id != actor.id:
            return  # not a follow of ours towards this actor
        if response.kind == "Accept":
            follow.state = FollowState.ACCEPTED
        else:
            await session.delete(follow)

    async def handle_undo(self, session: Session, actor: Account, undo: Undo) -> None:
        undone_by = get_id(undo.object.get("actor")) if undo.object is not None else None
        if undone_by not in (actor.uri, None):
            # Each branch below also undoes only what `actor` did; this says so out loud.
            raise IdentityMismatchError(f"{actor.uri} cannot undo what {undone_by} did")
        if undo.object_type == "Follow":
            follow = await repo.get_follow_by_uri(session, undo.object_id or "")
            if follow is None and undo.object is not None:
                target_uri = undo.object.get("object")
                target = await repo.get_account_by_uri(session, str(target_uri))
                if target is not None:
                    follow = await repo.get_follow(session, actor.id, target.id)
            if follow is not None and follow.account_id == actor.id:
                await session.delete(follow)
        elif undo.object_type in ("Like", "EmojiReact") and undo.object_id:
            reaction = await interactions.undo_reaction(session, undo.object_id, actor.id)
            if reaction is not None:
                post = await repo.get_post(session, reaction.post_id)
                await self.groups.relay(session, post, actor, undo.raw)
        elif undo.object_type == "Announce" and undo.object_id:
            boost = await repo.get_post_by_uri(session, undo.object_id)
            if boost is not None and boost.account_id == actor.id and boost.reblog_of_id:
                await repo.delete_post(session, boost.id)
        elif undo.object_type == "Block":
            await self.handle_undo_block(session, actor, undo)

    async def handle_create(
        self, session: Session, actor: Account, activity: ObjectActivity
    ) -> None:
        note, author = await self.notes.trusted(session, actor, activity.object, activity.object_id)
        group = await self.groups.community_of(session, author, note)
        post = await self.notes.store(session, note, author)
        if post is not None:
            await self.groups.created(session, post, group, activity.raw)
            parent = (
                await repo.get_post(session, post.in_reply_to_id) if post.in_reply_to_id else None
            )
            mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
            await interactions.notify_new_post(
                session, post=post, parent=parent, mentioned=mentioned, now=self.clock()
            )

    async def handle_like(self, session: Session, actor: Account, like: Like | EmojiReact) -> None:
        await self.reactions.received(session, actor, like)

    async def handle_announce(self, session: Session, actor: Account, announce: Announce) -> None:
        if actor.actor_type == "Group":
            await self.groups.announced(session, actor, announce, self.handle_like)
            return
        original = await repo.get_post_by_uri(session, announce.object_id)
        if original is None:
            # A boost of a post we never saw: fetch it from its origin, never from the booster.
            note, author = await self.notes.fetch(session, announce.object_id)
            original = await self.notes.store(session, note, author)
        if original is None or original.visibility not in ("public", "unlisted"):
            return
        if await repo.get_post_by_uri(session, announce.id) is not None:
            return
        boost = Post(
            uri=announce.id,
            url=None,
            account_id=actor.id,
            local=False,
            visibility="public",
            reblog_of_id=original.id,
            created_at=parse_time(announce.published, self.clock()),
        )
        session.add(boost)
        await session.flush()
        if original.account.is_local:
            await interactions.notify(
                session,
                account_id=original.account_id,
                kind="boost",
                from_account_id=actor.id,
                post_id=original.id,
                now=self.clock(),
            )

    async def handle_update(
        self, session: Session, actor: Account, activity: ObjectActivity
    ) -> None:
        doc = activity.object
        if doc is not None and doc.get("id") == actor.uri:
            await self.notes.refresh_actor(session, actor, doc)
            await follow_remote_suspension(session, actor, doc, self.clock())
            return
        if doc is None or doc.get("type") not in ("Note", "Article", "Page", "Question"):
            return  # other objects are not ours to keep
        note = parse_note(doc, followers_url=actor.followers_url)
        post = await repo.get_post_by_uri(session, note.id)
        if post is None or post.account_id != actor.id:
            return
        mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
        post.content_html = await self.notes.content(session, note, actor, mentioned)
        post.summary = note.summary or ""
        post.sensitive = note.sensitive
        post.updated_at = parse_time(note.updated, self.clock())
        await self.groups.relay(session, post, actor, activity.raw)

    async def handle_delete(self, session: Session, actor: Account, delete: Delete) -> None:
        if delete.is_actor_deletion:
            await self.handle_account_deletion(session, actor)
            return
        post = await repo.get_post_by_uri(session, delete.object_id)
        if post is not None and post.account_id == actor.id:
            await self.groups.relay(session, post, actor, delete.raw)
            await repo.delete_post(session, post.id)

    async def handle_account_deletion(self, session: Session, actor: Account) -> None:
        """Its server deleted the account: drop its posts and follows, keep a marker row."""
        await repo.delete_account_content(session, actor.id)
        actor.deleted_at = self.clock()
        actor.display_name = ""
        actor.note_html = ""
        actor.fields = []

    async def handle_block(self, session: Session, actor: Account, block: Block) -> None:
        """A remote account blocked one of ours: follows in both directions end (Mastodon),
        and the block is kept until its Undo (account_blocks, the remote blocker as
        account_id): our user no longer addresses it, and sees none of its posts."""
        target = await repo.get_account_by_uri(session, block.object)
        if target is None or not target.is_local:
            return
        await repo.delete_follow(session, actor.id, target.id)
        await repo.delete_follow(session, target.id, actor.id)
        if block.raw.get("target") is None:  # with a target: a community ban, not this
            row = AccountBlock(
                account_id=actor.id,
                target_account_id=target.id,
                uri=block.id,
                created_at=self.clock(),
            )
            await blocks.add_block(session, row)

    async def handle_undo_block(self, session: Session, actor: Account, undo: Undo) -> None:
        row = await blocks.get_block_by_uri(session, undo.object_id or "")
        if row is None and undo.object is not None:
            target = await repo.get_account_by_uri(session, str(undo.object.get("object")))
            row = None if target is None else await blocks.get_block(session, actor.id, target.id)
        if row is not None and row.account_id == actor.id:
            await blocks.remove_block(session, actor.id, row.target_account_id)

    async def handle_move(self, session: Session, actor: Account, move: Move) -> None:
        """Recorded only when the new account names the old one in alsoKnownAs."""
        if move.object != actor.uri:
            return
        new = await self.notes.author(session, move.target)
        aliases = (new.raw or {}).get("alsoKnownAs") or []
        if actor.uri not in (aliases if isinstance(aliases, list) else [aliases]):
            raise KizunaError(f"{move.target} does not confirm the move from {actor.uri}")
        actor.moved_to_uri = new.uri
