"""Communities in the inbox (FEP-1b12), the inbound side: posts into our communities, what
our communities pass on to their members, and what remote communities announce to us.

Into ours: a post naming one of our groups (audience, to/cc, or a Mastodon mention), or a
reply in one of its threads, is admitted only from a member who is not banned (and from a
moderator when only moderators start threads); the group then announces it to its members,
as it does an edit, deletion or like of a post in it (the activity relayed as received).

From theirs: an Announce by a Group wraps an activity its members did, parsed with the
Announce. The group signed the Announce, not the inner activity, so the inner `actor` is
only a claim. Every kind a group may relay rests on one of these, and on nothing else:

- Create/Update of a post: the post itself is believed as its origin serves it (taken as
  embedded only when it lives on the group's own host, else fetched from its id, and a new
  one must match what was embedded); the inner actor must be its author.
- Delete (a removal), Block/Undo(Block) (a ban), Add/Remove (a pin): the group's own
  authority over what is in it; applied only to posts in the group and to bans from it,
  whoever the named moderator is.
- Like, EmojiReact, Undo(Like/EmojiReact): they act as their actor, so the actor must be
  vouched for (`vouched`): on the group's own host (the group speaks for its server's
  accounts, as a signature does for its sender), or the activity, fetched from its id, is
  served by its actor's host and says the same. Lemmy serves its activities at their ids
  (/activities/like/…, apub get_activity), so a lemmy.world vote relayed by a lemmy.ml
  community is fetched from lemmy.world; a forged one is refused. (Lemmy itself believes
  the community; we do not let a group speak for another server's accounts.)
- Anything else (Follow, Flag, Accept, …) is not acted on when relayed.

New content is taken only from communities someone here joined. Never for our own
accounts: what they do we know first hand. Their own activities coming back through a
group are ignored; anything else naming one of them as its actor is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.objects import (
    Activity,
    Announce,
    Block,
    CollectionChange,
    Create,
    Delete,
    EmojiReact,
    Like,
    RemoteNote,
    Response,
    Undo,
    Unknown,
    Update,
    parse_activity,
)
from kizuna.activitypub.vocab import REACTION_TYPES, JsonObject, host_of
from kizuna.errors import PermissionDeniedError
from kizuna.federation.errors import IdentityMismatchError
from kizuna.inbox.context import Context
from kizuna.outbox import groups
from kizuna.services.community_moderation import remove_from_community
from kizuna.services.community_rules import posting_refusal
from kizuna.storage import communities, interactions, repo
from kizuna.storage.engine import Session
from kizuna.storage.models import Account, CommunityBan, Post

logger = logging.getLogger(__name__)

LikeHandler = Callable[[Context, Like | EmojiReact], Awaitable[None]]
Vouched = TypeVar("Vouched", bound=Like | EmojiReact | Undo)


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


# --- posts into our communities, and what they pass on ---------------------------------------


async def community_of(session: Session, author: Account, note: RemoteNote) -> Account | None:
    """The community a received post belongs to, after checking the author may post there
    (raises PermissionDeniedError); None for an ordinary post."""
    candidates = [
        a for a in await repo.get_accounts_by_uris(session, addressed(note)) if a.is_group
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


async def created(ctx: Context, post: Post, group: Account | None, activity: JsonObject) -> None:
    """A new post in `group`: kept there, and announced to its members when it is ours."""
    if group is None:
        return
    post.community_id = group.id
    await groups.relay(
        ctx.deps.outbox,
        ctx.session,
        post,
        activity,
        new_post=True,
        skip_domain=post.account.domain,
    )


async def relay(ctx: Context, post: Post | None, activity: JsonObject) -> None:
    """An edit, deletion or like of a post in one of our communities reaches its members."""
    if post is not None:
        await groups.relay(
            ctx.deps.outbox, ctx.session, post, activity, skip_domain=ctx.actor.domain
        )


# --- what remote communities announce (ctx.actor is the community) -----------------------------


async def announced(ctx: Context, announce: Announce, on_like: LikeHandler) -> None:
    group = ctx.actor
    if group.is_local:
        return  # our own announce echoed back
    inner = announce.embedded
    # New content only for communities someone here joined; removals, bans and unbans
    # touch only what we already hold (a banned member is no longer a member).
    new_content = isinstance(inner, RemoteNote | Create | Update | Like | EmojiReact | None)
    if new_content and not await communities.has_local_member(ctx.session, group.id):
        raise PermissionDeniedError(f"nobody here joined {group.uri}; announce not wanted")
    if inner is None or isinstance(inner, RemoteNote):
        # A bare object (Lemmy's Announce(Page) for Mastodon, guppe-style groups).
        await _thread(ctx, inner, announce.object_id, actor=None, update=False)
        return
    if inner.actor is None:
        raise InvalidActivityError("announced activity has no actor")
    if _echoed(ctx, inner):
        return  # one of our own accounts' activities coming back: we hold the original
    match inner:
        case Create():
            await _thread(ctx, inner.note, inner.object_id, actor=inner.actor, update=False)
        case Update():
            if not isinstance(inner.object, RemoteNote | None):
                raise InvalidActivityError(f"not a note type: {inner.object.type!r}")
            await _thread(ctx, inner.object, inner.object_id, actor=inner.actor, update=True)
        case Delete():
            await _removed(ctx, inner.object_id)
        case Block():
            await _banned(
                ctx, target=inner.target, member=inner.object, reason=inner.summary, uri=inner.id
            )
        case Undo():
            await _undone(ctx, inner)
        case Like() | EmojiReact():
            await _liked(ctx, inner, on_like)
        case CollectionChange():
            await _pinned(ctx, inner)
        case _:
            logger.debug("ignoring %s announced by %s", _named(inner), group.uri)


async def _thread(
    ctx: Context, embedded: RemoteNote | None, object_id: str, *, actor: str | None, update: bool
) -> None:
    group, session, notes = ctx.actor, ctx.session, ctx.deps.notes
    if host_of(object_id) == ctx.deps.config.domain:
        return  # one of our own posts coming back through its community: we have it
    if embedded is not None:
        note = embedded
        if actor is not None and actor != note.attributed_to:
            raise IdentityMismatchError(f"{actor} announced as the author of {note.id}")
        if host_of(note.id) == host_of(note.attributed_to) == host_of(group.uri):
            author = await notes.author(session, note.attributed_to)
        else:
            origin, author = await notes.fetch(session, note.id)
            if not update and not _same(note, origin):
                raise IdentityMismatchError(
                    f"{group.uri} announced {note.id} unlike what its origin serves"
                )
            note = origin
    else:
        note, author = await notes.fetch(session, object_id)
    parent = await repo.get_post_by_uri(session, note.in_reply_to) if note.in_reply_to else None
    if not names(note, group.uri) and (parent is None or parent.community_id != group.id):
        raise IdentityMismatchError(f"{group.uri} announced {note.id}, which is not in it")
    existing = await repo.get_post_by_uri(session, note.id)
    if existing is not None:
        if update and existing.account_id == author.id and not existing.local:
            await notes.revise(session, existing, note, author)
        if existing.community_id is None and not existing.local:
            existing.community_id = group.id
        return
    post = await notes.store(session, note, author)
    if post is None:
        return
    post.community_id = group.id
    mentioned = await repo.get_accounts_by_uris(session, [h for h, _ in note.mentions])
    await ctx.deps.surface.posted(session, post, parent=parent, mentioned=mentioned, now=ctx.now())


async def _in_group(ctx: Context, uri: str) -> Post | None:
    post = await repo.get_post_by_uri(ctx.session, uri)
    return post if post is not None and post.community_id == ctx.actor.id else None


async def _removed(ctx: Context, uri: str) -> None:
    """A moderator's removal or an author's deletion: the group vouches for both."""
    post = await _in_group(ctx, uri)
    if post is not None:
        await remove_from_community(ctx.session, post)


async def _banned(
    ctx: Context,
    *,
    target: str | None,
    member: str | None,
    reason: str = "",
    uri: str | None = None,
    banned: bool = True,
) -> None:
    group, session = ctx.actor, ctx.session
    if target not in (group.uri, None):
        return  # a site-wide ban on the group's server: not ours to apply
    account = await repo.get_account_by_uri(session, member or "")
    if account is None or not account.is_local:
        return  # the group's own server enforces bans of everyone else
    if banned:
        await communities.add_ban(
            session,
            CommunityBan(
                community_id=group.id,
                account_id=account.id,
                reason=reason[:500],
                uri=uri,
                created_at=ctx.now(),
            ),
        )
        await repo.delete_follow(session, account.id, group.id)
    else:
        await communities.remove_ban(session, group.id, account.id)


async def _undone(ctx: Context, undo: Undo) -> None:
    undone = undo.undone
    if undone.type == "Block":
        await _banned(ctx, target=undone.target, member=undone.object, banned=False)
    elif undone.type in REACTION_TYPES:
        if await interactions.get_reaction_by_uri(ctx.session, undone.id or "") is None:
            return  # nothing of it here: no origin fetch
        # Acts as its actor: vouched for, and undoing only what that actor did.
        undo = await _vouched(ctx, undo)
        if undo.undone.actor not in (undo.actor, None):
            raise IdentityMismatchError(f"{undo.actor} cannot undo what someone else did")
        liker = await repo.get_account_by_uri(ctx.session, undo.actor)
        if liker is not None:
            await interactions.undo_reaction(ctx.session, undo.undone.id or "", liker.id)


async def _liked(ctx: Context, like: Like | EmojiReact, on_like: LikeHandler) -> None:
    if await _in_group(ctx, like.object_id) is None:
        return  # checked first: no origin fetch for what is not ours to apply anyway
    if await interactions.get_reaction_by_uri(ctx.session, like.id) is not None:
        return  # had it already (the liker's server sent it to us too): nothing to fetch
    like = await _vouched(ctx, like)
    liker = await ctx.deps.notes.author(ctx.session, like.actor)
    await on_like(ctx.acting_as(liker), like)


async def _pinned(ctx: Context, change: CollectionChange) -> None:
    if change.target != (ctx.actor.featured_url or ""):
        return  # Add/Remove of moderators: the moderators collection is refetched
    post = await _in_group(ctx, change.object)
    if post is not None:
        post.pinned_at = (post.pinned_at or ctx.now()) if change.kind == "Add" else None


# --- whose word a relayed activity is ----------------------------------------------------------


def _ours(ctx: Context, url: str | None) -> bool:
    found = host_of(url)
    return bool(found) and found in (ctx.deps.config.domain, host_of(ctx.deps.config.base_url))


def _echoed(ctx: Context, inner: Activity) -> bool:
    """True for one of our own accounts' activities coming back through the group (ignore
    it: we hold the original). Raises IdentityMismatchError for anything else that names
    one of our accounts as its actor."""
    if not _ours(ctx, inner.actor):
        return False
    if _ours(ctx, inner.id):
        return True
    raise IdentityMismatchError(
        f"{ctx.actor.uri} relayed a {_named(inner)} as our account {inner.actor}"
    )


def _named(activity: Activity) -> str:
    """The activity's type as sent, for messages."""
    match activity:
        case Unknown():
            return activity.type or "typeless activity"
        case Response() | CollectionChange():
            return activity.kind
        case _:
            return type(activity).__name__


def _undone_or_liked(activity: Like | EmojiReact | Undo) -> str | None:
    return activity.undone.id if isinstance(activity, Undo) else activity.object_id


async def _vouched(ctx: Context, relayed: Vouched) -> Vouched:
    """The relayed activity to act on as its actor: `relayed` itself when the actor lives
    on the group's host, else the copy its origin serves, which must say the same. Raises
    IdentityMismatchError, or the fetch's error (a 404 refuses for good)."""
    group, ident, actor = ctx.actor, relayed.id, relayed.actor
    if _ours(ctx, actor):
        raise IdentityMismatchError(f"{group.uri} cannot speak for our account {actor}")
    if host_of(ident) != host_of(actor):
        raise IdentityMismatchError(f"{actor} cannot make activities with ids like {ident}")
    if host_of(actor) == host_of(group.uri):
        return relayed
    fetched = await ctx.deps.client.get_json(ident)
    origin = parse_activity(fetched.doc)
    if (
        host_of(fetched.url) != host_of(ident)
        or not isinstance(origin, type(relayed))
        or origin.id != ident
        or origin.actor != actor
        or _undone_or_liked(origin) != _undone_or_liked(relayed)
    ):
        raise IdentityMismatchError(f"{group.uri} relayed {ident} unlike its origin serves it")
    return origin
