"""Local actions become activities queued for delivery, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from kizuna.activitypub.activities import (
    accept_json,
    announce_json,
    delete_note_json,
    follow_json,
    reject_json,
    undo_json,
    update_actor_json,
    update_note_json,
)
from kizuna.activitypub.ids import (
    delete_id,
    follow_id,
    follow_response_id,
    local_actor_urls,
    status_activity_id,
    undo_id,
    update_id,
    user_urls,
)
from kizuna.activitypub.notes import create_json, note_json
from kizuna.activitypub.reactions import Dialect
from kizuna.activitypub.vocab import AS_PUBLIC, JsonObject
from kizuna.actors.documents import ActorDocuments
from kizuna.config import Config
from kizuna.outbox import groups
from kizuna.storage import blocks, communities, queue, repo
from kizuna.storage.engine import Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Follow, OutboxActivity, Post


def _inbox_of(account: Account) -> tuple[str, str] | None:
    inbox = account.inbox_url
    if account.suspended_at is not None:
        return None  # instance moderation: nothing more goes to a suspended account
    return (inbox, account.domain) if inbox and not account.is_local else None


def _shared_inbox_of(account: Account) -> tuple[str, str] | None:
    """Posts go to a server once: receivers fan out by addressing (to/cc, mentions)."""
    inbox = account.shared_inbox_url or account.inbox_url
    if account.suspended_at is not None:
        return None
    return (inbox, account.domain) if inbox and not account.is_local else None


class Outbox:
    def __init__(
        self,
        config: Config,
        documents: ActorDocuments,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.documents = documents
        self.clock = clock

    def actor_id(self, account: Account) -> str:
        return local_actor_urls(self.config.base_url, account.actor_type, account.username).id

    async def enqueue(
        self,
        session: Session,
        sender: Account,
        doc: JsonObject,
        targets: Iterable[tuple[str, str]],
        *,
        post_id: int | None = None,
        delay: timedelta | None = None,
        priority: int = queue.INTERACTIVE,
    ) -> int:
        """`delay`: not before then (an activity that must arrive after an earlier one);
        `priority`: queue.BULK for mass work nobody waits for (it goes after new posts).
        The delivery workers wake when the caller's transaction commits."""
        wanted = [t for t in targets if t[1] and t[1] != self.config.domain]
        if not wanted:
            return 0
        activity = OutboxActivity(
            activity_id=doc["id"],
            activity_type=doc["type"],
            account_id=sender.id,
            post_id=post_id,
            raw=doc,
            created_at=self.clock(),
        )
        due = self.clock() + delay if delay else self.clock()
        return await queue.add_outbox_activity(session, activity, wanted, due, priority=priority)

    async def send_follow(
        self, session: Session, follow: Follow, follower: Account, target: Account
    ) -> None:
        actor = self.actor_id(follower)
        follow.uri = follow_id(actor, follow.id)
        doc = follow_json(id=follow.uri, actor=actor, object=target.uri)
        await self.enqueue(session, follower, doc, filter(None, [_inbox_of(target)]))

    async def send_undo_follow(
        self, session: Session, follow: Follow, follower: Account, target: Account
    ) -> None:
        actor = self.actor_id(follower)
        follow_doc = follow_json(
            id=follow.uri or follow_id(actor, follow.id), actor=actor, object=target.uri
        )
        doc = undo_json(id=undo_id(follow_doc["id"]), actor=actor, object=follow_doc)
        await self.enqueue(session, follower, doc, filter(None, [_inbox_of(target)]))

    async def send_accept(
        self,
        session: Session,
        target: Account,
        follower: Account,
        follow_doc: JsonObject,
        *,
        accept: bool = True,
        priority: int = queue.INTERACTIVE,
    ) -> None:
        actor = self.actor_id(target)
        build = accept_json if accept else reject_json
        doc = build(
            id=follow_response_id(actor, new_id(), accept=accept), actor=actor, follow=follow_doc
        )
        targets = filter(None, [_inbox_of(follower)])
        await self.enqueue(session, target, doc, targets, priority=priority)

    async def post_targets(self, session: Session, post: Post) -> list[tuple[str, str]]:
        targets = (
            []
            if post.visibility == "direct"
            else await repo.follower_inboxes(session, post.account_id)
        )
        mentioned = (await repo.mentions_for_posts(session, [post.id]))[post.id]
        parent = (
            await repo.get_post(session, post.in_reply_to_id)
            if post.in_reply_to_id is not None
            else None
        )
        # A block either way: the mention or reply is not sent to that account (Mastodon's
        # ProcessMentionsService); its server may still hear of the post through followers.
        named = [*mentioned, *([parent.account] if parent is not None else [])]
        walls = await blocks.blocked_either_way(session, post.account_id, [a.id for a in named])
        # The author replied to hears of it, as does everyone mentioned.
        reached = [_shared_inbox_of(a) for a in named if a.id not in walls]
        targets += [t for t in reached if t is not None]
        return await self.with_community(session, post, targets)

    async def with_community(
        self, session: Session, post: Post, targets: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """A remote community hears of its posts, replies, edits and likes (it relays them);
        a server already among the targets reads the community from the addressing."""
        if not post.community_id:
            return targets
        group = await repo.get_account(session, post.community_id)
        target = _inbox_of(group) if group is not None else None
        if target is None or any(domain == target[1] for _, domain in targets):
            return targets
        return [*targets, target]

    async def send_create(self, session: Session, post: Post) -> int:
        (view,) = await self.documents.note_views(session, [post])
        doc = create_json(view)
        targets = await self.post_targets(session, post)
        sent = await self.enqueue(session, post.account, doc, targets, post_id=post.id)
        return sent + await groups.relay(self, session, post, doc, new_post=True)

    async def send_delete(self, session: Session, post: Post) -> int:
        (view,) = await self.documents.note_views(session, [post])
        targets = await self.post_targets(session, post)
        doc = delete_note_json(
            id=delete_id(view.id),
            actor=view.attributed_to,
            note_id=view.id,
            to=[AS_PUBLIC],
            cc=[],
        )
        sent = await self.enqueue(session, post.account, doc, targets)
        return sent + await groups.relay(self, session, post, doc)

    async def send_reaction(
        self,
        session: Session,
        reactor: Account,
        post: Post,
        doc: JsonObject | None,
        *,
        relay: Mapping[Dialect, JsonObject | None] | None = None,
        delay: timedelta | None = None,
    ) -> None:
        """A reaction (or its Undo) to the post's server and a remote community, in `doc`'s
        dialect (None: not for them); `relay` holds it in every dialect, for one of our
        communities to announce to each member's server in that server's own."""
        if doc is not None:
            targets = [*filter(None, [_shared_inbox_of(post.account)])]
            await self.enqueue(
                session,
                reactor,
                doc,
                await self.with_community(session, post, targets),
                delay=delay,
            )
        if relay is not None:
            await groups.relay_reaction(self, session, post, relay)

    def _announce(self, boost: Post, booster: Account, original: Post) -> JsonObject:
        actor = self.actor_id(booster)
        followers = user_urls(self.config.base_url, booster.username).followers
        return announce_json(
            id=status_activity_id(boost.uri),
            actor=actor,
            object_id=original.uri,
            published=boost.created_at,
            to=[AS_PUBLIC],
            cc=[original.account.uri, followers],
        )

    async def _boost_targets(
        self, session: Session, booster: Account, original: Post
    ) -> list[tuple[str, str]]:
        targets = await repo.follower_inboxes(session, booster.id)
        author = _shared_inbox_of(original.account)
        return targets + ([author] if author else [])

    async def send_announce(
        self, session: Session, boost: Post, booster: Account, original: Post
    ) -> None:
        doc = self._announce(boost, booster, original)
        targets = await self._boost_targets(session, booster, original)
        await self.enqueue(session, booster, doc, targets)

    async def send_undo_announce(
        self, session: Session, boost: Post, booster: Account, original: Post
    ) -> None:
        announce = self._announce(boost, booster, original)
        doc = undo_json(id=undo_id(announce["id"]), actor=announce["actor"], object=announce)
        targets = await self._boost_targets(session, booster, original)
        await self.enqueue(session, booster, doc, targets)

    async def send_update(self, session: Session, post: Post) -> int:
        (view,) = await self.documents.note_views(session, [post])
        note = note_json(view, with_context=False)
        stamp = int((post.updated_at or self.clock()).timestamp())
        doc = update_note_json(id=update_id(view.id, stamp), actor=view.attributed_to, note=note)
        targets = await self.post_targets(session, post)
        sent = await self.enqueue(session, post.account, doc, targets, post_id=post.id)
        return sent + await groups.relay(self, session, post, doc)

    async def send_update_actor(
        self, session: Session, account: Account, *, priority: int = queue.INTERACTIVE
    ) -> int:
        """Update(Person) to every server with followers (a community's members, for an
        Update(Group)), so profiles refresh there. A profile edit is interactive (its owner
        looks for it elsewhere, and it reaches as many servers as a post); moderation's are
        queue.BULK."""
        community = await communities.get_community(session, account.id)
        actor_doc = self.documents.actor_document(account, community)
        # A fresh id each time: two edits within one second are two updates.
        doc = update_actor_json(id=update_id(actor_doc["id"], new_id()), actor_doc=actor_doc)
        targets = await repo.follower_inboxes(session, account.id)
        return await self.enqueue(session, account, doc, targets, priority=priority)
