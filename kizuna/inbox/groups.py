"""Communities in the inbox (FEP-1b12): posts into our communities, and what remote
communities announce to us.

Into ours: a post naming one of our groups (audience, to/cc, or a Mastodon mention), or a
reply in one of its threads, is admitted only from a member who is not banned (and from a
moderator when only moderators start threads); the group then announces it to its members.

From theirs: an Announce by a Group wraps an activity its members did. The group signed
the Announce, not the inner activity, so the inner object is taken as is only when it
lives on the group's own host; anything else is fetched from its origin and must match
what was embedded. The object must belong to the group, and someone here must have joined
it: anything else is refused and nothing is stored. Whose word each relayed kind rests on
(never our own accounts'): kizuna/inbox/relayed.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.objects import (
    NOTE_TYPES,
    Announce,
    EmojiReact,
    Like,
    RemoteNote,
    activity_type,
    parse_activity,
    parse_note,
    parse_object_activity,
)
from kizuna.activitypub.vocab import JsonObject, get_id
from kizuna.errors import PermissionDeniedError
from kizuna.federation.errors import IdentityMismatchError
from kizuna.inbox.notes import NoteStore, host, parse_time
from kizuna.inbox.relayed import RelayedActivities
from kizuna.outbox import groups
from kizuna.outbox.outbox import Outbox
from kizuna.services.community_moderation import remove_from_community
from kizuna.services.community_rules import posting_refusal
from kizuna.storage import communities, interactions, repo
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, CommunityBan, Post

logger = logging.getLogger(__name__)

LikeHandler = Callable[[Session, Account, Like | EmojiReact], Awaitable[None]]


def addressed(note: RemoteNote) -> list[str]:
    """Everyone the note addresses, in order, once: audience, to/cc, mentions (Mastodon
    addresses a group by mentioning it)."""
    return list(
        dict.fromkeys(
            filter(None, (note.audience, *note.to, *note.cc, *(m.href for m in note.mentions)))
        )
    )


def names(note: RemoteNote, group_uri: str) -> bool:
    return group_uri in addressed(note)


def _same(embedded: RemoteNote, origin: RemoteNote) -> bool:
    return (
        embedded.attributed_to == origin.attributed_to
        and embedded.content_html == origin.content_html
        and embedded.in_reply_to == origin.in_reply_to
        and (embedded.summary or "") == (origin.summary or "")
    )


class GroupInbox:
    def __init__(self, outbox: Outbox, notes: NoteStore, clock: Callable[[], datetime]) -> None:
        self.outbox = outbox
        self.notes = notes
        self.clock = clock
        self.relayed = RelayedActivities(notes.client, outbox.config)

    # --- posts into communities --------------------------------------------------------

    async def community_of(
        self, session: Session, author: Account, note: RemoteNote
    ) -> Account | None:
        """The community a received post belongs to, after checking the author may post
        there (raises PermissionDeniedError); None for an ordinary post."""
        candidates = [
            a
            for a in await repo.get_accounts_by_uris(session, addressed(note))
            if a.actor_type == "Group"
        ]
        parent = await repo.get_post_by_uri(session, note.in_reply_to) if note.in_reply_to else None
        group = next((g for g in candidates if g.is_local), candidates[0] if candidates else None)
        explicit = group is not None
        if group is None and parent is not None and parent.community_id:
            group = await repo.get_account(session, parent.community_id)
        if group is None or not group.is_local:
            return group  # a remote community's own server decides who posts there
        refusal = await posting_refusal(session, group, author, top_level=note.in_reply_to is None)
        if refusal is None:
            return group
        if explicit:
            raise PermissionDeniedError(f"{author.acct} may not post in !{group.acct}: {refusal}")
        return None  # a non-member's reply in a thread stays an ordinary reply

    async def created(
        self, session: Session, post: Post, group: Account | None, activity: JsonObject
    ) -> None:
        if group is None:
            return
        post.community_id = group.id
        await groups.relay(
            self.outbox, session, post, activity, new_post=True, skip_domain=post.account.domain
        )

    async def relay(
        self, session: Session, post: Post | None, actor: Account, activity: JsonObject
    ) -> None:
        """An edit, deletion or like of a post in one of our communities reaches its members."""
        if post is not None:
            await groups.relay(self.outbox, session, post, activity, skip_domain=actor.domain)

    # --- what remote communities announce ------------------------------------------------

    async def announced(
        self, session: Session, group: Account, announce: Announce, on_like: LikeHandler
    ) -> None:
        if group.is_local:
            return  # our own announce echoed back
        inner = announce.embedded_object
        kind = activity_type(inner) if inner is not None else None
        # New content only for communities someone here joined; removals, bans and unbans
        # touch only what we already hold (a banned member is no longer a member).
        if kind in (None, "Create", "Update", "Like", "EmojiReact", *NOTE_TYPES) and not (
            await communities.has_local_member(session, group.id)
        ):
            raise PermissionDeniedError(f"nobody here joined {group.uri}; announce not wanted")
        if inner is None or kind in NOTE_TYPES:
            # A bare object (Lemmy's Announce(Page) for Mastodon, guppe-style groups).
            await self._thread(session, group, inner, announce.object_id, actor=None, update=False)
            return
        actor = get_id(inner.get("actor"))
        if actor is None:
            raise InvalidActivityError("announced activity has no actor")
        if self.relayed.echoed(group, inner):
            return  # one of our own accounts' activities coming back: we hold the original
        match kind:
            case "Create" | "Update":
                act = parse_object_activity(inner)
                await self._thread(
                    session,
                    group,
                    act.object,
                    act.object_id,
                    actor=act.actor,
                    update=kind == "Update",
                )
            case "Delete":
                await self._removed(session, group, get_id(inner.get("object")) or "")
            case "Block":
                await self._banned(session, group, inner, banned=True)
            case "Undo":
                await self._undone(session, group, inner)
            case "Like" | "EmojiReact":
                await self._liked(session, group, inner, on_like)
            case "Add" | "Remove":
                await self._pinned(session, group, inner, pinned=kind == "Add")
            case _:
                logger.debug("ignoring %s announced by %s", kind, group.uri)

    async def _thread(
        self,
        session: Session,
        group: Account,
        embedded: JsonObject | None,
        object_id: str,
        *,
        actor: str | None,
        update: bool,
    ) -> None:
        if host(object_id) == self.outbox.config.domain:
            return  # one of our own posts coming back through its community: we have it
        if embedded is not None:
            note = parse_note(embedded)
            if actor is not None and actor != note.attributed_to:
                raise IdentityMismatchError(f"{actor} announced as the author of {note.id}")
            if host(note.id) == host(note.attributed_to) == host(group.uri):
                author = await self.notes.author(session, note.attributed_to)
            else:
                origin, author = await self.notes.fetch(session, note.id)
                if not update and not _same(note, origin):
                    raise IdentityMismatchError(
                        f"{group.uri} announced {note.id} unlike what its origin serves"
                    )
                note = origin
        else:
            note, author = await self.notes.fetch(session, object_id)
        parent = await repo.get_post_by_uri(session, note.in_reply_to) if note.in_reply_to else None
        if not names(note, group.uri) and (parent is None or parent.community_id != group.id):
            raise IdentityMismatchError(f"{group.uri} announced {note.id}, which is not in it")
        existing = await repo.get_post_by_uri(session, note.id)
        if existing is not None:
            if update and existing.account_id == author.id and not existing.local:
                mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
                existing.content_html = await self.notes.content(session, note, author, mentioned)
                existing.summary = note.summary or ""
                existing.sensitive = note.sensitive
                existing.updated_at = parse_time(note.updated, self.clock())
            if existing.community_id is None and not existing.local:
                existing.community_id = group.id
            return
        post = await self.notes.store(session, note, author)
        if post is None:
            return
        post.community_id = group.id
        mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
        await interactions.notify_new_post(
            session, post=post, parent=parent, mentioned=mentioned, now=self.clock()
        )

    async def _in_group(self, session: Session, group: Account, uri: str) -> Post | None:
        post = await repo.get_post_by_uri(session, uri)
        return post if post is not None and post.community_id == group.id else None

    async def _removed(self, session: Session, group: Account, uri: str) -> None:
        """A moderator's removal or an author's deletion: the group vouches for both."""
        post = await self._in_group(session, group, uri)
        if post is not None:
            await remove_from_community(session, post)

    async def _banned(
        self, session: Session, group: Account, block: JsonObject, *, banned: bool
    ) -> None:
        if get_id(block.get("target")) not in (group.uri, None):
            return  # a site-wide ban on the group's server: not ours to apply
        target = await repo.get_account_by_uri(session, get_id(block.get("object")) or "")
        if target is None or not target.is_local:
            return  # the group's own server enforces bans of everyone else
        if banned:
            await communities.add_ban(
                session,
                CommunityBan(
                    community_id=group.id,
                    account_id=target.id,
                    reason=str(block.get("summary") or "")[:500],
                    uri=get_id(block.get("id")),
                    created_at=self.clock(),
                ),
            )
            await repo.delete_follow(session, target.id, group.id)
        else:
            await communities.remove_ban(session, group.id, target.id)

    async def _undone(self, session: Session, group: Account, undo: JsonObject) -> None:
        inner = undo.get("object")
        inner_type = activity_type(inner) if isinstance(inner, dict) else None
        if inner_type == "Block" and isinstance(inner, dict):
            await self._banned(session, group, inner, banned=False)
        elif inner_type in ("Like", "EmojiReact") and isinstance(inner, dict):
            if await interactions.get_reaction_by_uri(session, get_id(inner) or "") is None:
                return  # nothing of it here: no origin fetch
            # Acts as its actor: vouched for, and undoing only what that actor did.
            undo = await self.relayed.vouched(group, undo)
            actor, inner = get_id(undo.get("actor")) or "", undo.get("object")
            if isinstance(inner, dict) and get_id(inner.get("actor")) not in (actor, None):
                raise IdentityMismatchError(f"{actor} cannot undo what someone else did")
            liker = await repo.get_account_by_uri(session, actor)
            if liker is not None:
                await interactions.undo_reaction(session, get_id(inner) or "", liker.id)

    async def _liked(
        self, session: Session, group: Account, inner: JsonObject, on_like: LikeHandler
    ) -> None:
        if await self._in_group(session, group, get_id(inner.get("object")) or "") is None:
            return  # checked first: no origin fetch for what is not ours to apply anyway
        if await interactions.get_reaction_by_uri(session, get_id(inner) or "") is not None:
            return  # had it already (the liker's server sent it to us too): nothing to fetch
        like = parse_activity(await self.relayed.vouched(group, inner))
        if not isinstance(like, Like | EmojiReact):
            raise InvalidActivityError(f"{group.uri} relayed a broken {activity_type(inner)}")
        liker = await self.notes.author(session, like.actor)
        await on_like(session, liker, like)

    async def _pinned(
        self, session: Session, group: Account, doc: JsonObject, *, pinned: bool
    ) -> None:
        if get_id(doc.get("target")) != (group.featured_url or ""):
            return  # Add/Remove of moderators: the moderators collection is refetched
        post = await self._in_group(session, group, get_id(doc.get("object")) or "")
        if post is not None:
            post.pinned_at = (post.pinned_at or self.clock()) if pinned else None
