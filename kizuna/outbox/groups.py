"""A local community's voice: it announces what happens in it to its members' servers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from kizuna.activitypub.groups import group_announce_json
from kizuna.activitypub.ids import followers_url, group_activity_id
from kizuna.activitypub.reactions import Dialect, dialect_for
from kizuna.activitypub.vocab import JsonObject
from kizuna.storage import communities, repo
from kizuna.storage.engine import Session
from kizuna.storage.ids import new_id
from kizuna.storage.models import Account, Post


class Enqueue(Protocol):
    """What a community needs of the outbox (which calls in here with itself)."""

    async def enqueue(
        self,
        session: Session,
        sender: Account,
        doc: JsonObject,
        targets: Iterable[tuple[str, str]],
    ) -> int: ...


async def announce(
    outbox: Enqueue,
    session: Session,
    group: Account,
    activity: JsonObject,
    *,
    also_bare: str | None = None,
    extra: Sequence[Account] = (),
    skip_domain: str = "",
    domains: Collection[str] | None = None,
) -> int:
    """Announce(activity) to every member's server (one per server), and to `extra`
    accounts' servers (a banned or removed author who may no longer be a member);
    `domains`: only to these servers.

    `also_bare`: a new thread's object id, announced bare too, as Lemmy does, because
    Mastodon drops Announce(Create) (LemmyNet/lemmy#2224)."""
    assert group.is_local, "only our communities announce"
    targets = dict(await repo.follower_inboxes(session, group.id))
    for account in extra:
        inbox = account.shared_inbox_url or account.inbox_url
        if inbox and not account.is_local:
            targets[inbox] = account.domain
    wanted = [
        (inbox, domain)
        for inbox, domain in targets.items()
        if domain != skip_domain and (domains is None or domain in domains)
    ]
    followers = group.followers_url or followers_url(group.uri)
    sent = 0
    for obj in (activity, also_bare):
        if obj is None:
            continue
        doc = group_announce_json(
            id=group_activity_id(group.uri, "announce", new_id()),
            group=group.uri,
            followers=followers,
            object=obj,
        )
        sent += await outbox.enqueue(session, group, doc, wanted)
    return sent


async def relay(
    outbox: Enqueue,
    session: Session,
    post: Post,
    activity: JsonObject,
    *,
    new_post: bool = False,
    skip_domain: str = "",
) -> int:
    """When `post` lives in one of our communities, the community announces `activity`
    (about the post) to its members; `skip_domain` is where it came from."""
    if not post.community_id:
        return 0
    group = await repo.get_account(session, post.community_id)
    if group is None or not group.is_local:
        return 0
    if new_post:
        community = await communities.get_community(session, group.id)
        if community is not None:
            community.last_post_at = post.created_at
    bare = post.uri if new_post and post.in_reply_to_id is None else None
    return await announce(outbox, session, group, activity, also_bare=bare, skip_domain=skip_domain)


async def relay_reaction(
    outbox: Enqueue, session: Session, post: Post, docs: Mapping[Dialect, JsonObject | None]
) -> int:
    """A reaction (or its Undo) in one of our communities, announced to each member's
    server in that server's dialect (`docs`; None: not for it): Misskey's Like+content,
    Akkoma's EmojiReact, and for Mastodon, GoToSocial and unknown software a plain favourite
    or nothing, as the README promises them."""
    if not post.community_id:
        return 0
    group = await repo.get_account(session, post.community_id)
    if group is None or not group.is_local:
        return 0
    domains = {domain for _, domain in await repo.follower_inboxes(session, group.id)}
    software = await repo.peer_software(session, domains)
    by_dialect: dict[Dialect, set[str]] = {}
    for domain in domains:
        by_dialect.setdefault(dialect_for(software.get(domain)), set()).add(domain)
    sent = 0
    for dialect, wanted in by_dialect.items():
        doc = docs.get(dialect)
        if doc is not None:
            sent += await announce(outbox, session, group, doc, domains=wanted)
    return sent
