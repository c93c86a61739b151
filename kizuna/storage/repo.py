"""Queries. Every function takes the session first; callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.elements import ColumnElement

from kizuna.activitypub.vocab import ActorType
from kizuna.errors import ConflictError
from kizuna.storage.models import (
    Account,
    Follow,
    InstanceSetting,
    LoginSession,
    PeerDomain,
    Post,
    PostMention,
    PostTag,
    User,
)
from kizuna.storage.states import FollowState, Role

PAGE_SIZE = 40


def like_pattern(text: str) -> str:
    """`%text%` for `.like(…, escape="\\")`, LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def on_domain(column: Any, domain: str) -> ColumnElement[bool]:
    """`column` is `domain` or one of its subdomains (a domain policy covers both)."""
    suffix = like_pattern("." + domain)[:-1]  # "%.domain", LIKE's wildcards escaped
    covered: ColumnElement[bool] = or_(column == domain, column.like(suffix, escape="\\"))
    return covered


# A post card needs its author and, for a boost, the boosted post and its author: joined in
# the same query (no N+1).
POST_LOADS = (
    joinedload(Post.account),
    joinedload(Post.community),
    joinedload(Post.reblog_of).joinedload(Post.account),
)

# Timeline pages (post cards, the JSON feed) show a few columns of each account: only those
# are read. The rest (the actor document, keys, bio) were most of what a page loaded, parsed
# and threw away; reading one of them from such a page raises instead of querying.
CARD_ACCOUNT_COLUMNS = (
    Account.id,
    Account.username,
    Account.domain,
    Account.uri,
    Account.url,
    Account.actor_type,
    Account.display_name,
    Account.avatar_path,
    Account.avatar_remote_url,
    Account.locked,
    Account.silenced_at,
    Account.suspended_at,
)
CARD_LOADS = (
    joinedload(Post.account).load_only(*CARD_ACCOUNT_COLUMNS, raiseload=True),
    joinedload(Post.community).load_only(*CARD_ACCOUNT_COLUMNS, raiseload=True),
    joinedload(Post.reblog_of)
    .joinedload(Post.account)
    .load_only(*CARD_ACCOUNT_COLUMNS, raiseload=True),
)

# --- instance settings -----------------------------------------------------------------


async def get_setting(session: AsyncSession, key: str) -> str | None:
    row = await session.get(InstanceSetting, key)
    return None if row is None else row.value


async def set_setting(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(InstanceSetting, key)
    if row is None:
        session.add(InstanceSetting(key=key, value=value))
    else:
        row.value = value
    await session.flush()


async def setting_or_insert(session: AsyncSession, key: str, value: str) -> str:
    """Return the stored value, storing `value` first if there is none (race-safe)."""
    existing = await get_setting(session, key)
    if existing is not None:
        return existing
    try:
        async with session.begin_nested():
            session.add(InstanceSetting(key=key, value=value))
    except IntegrityError:
        stored = await get_setting(session, key)
        assert stored is not None
        return stored
    return value


# --- accounts and users ----------------------------------------------------------------


async def add_local_account(session: AsyncSession, account: Account, user: User) -> None:
    """Insert both rows or neither; a taken user name is a ConflictError, not a 500."""
    try:
        async with session.begin_nested():
            session.add(account)
            await session.flush()
            user.account_id = account.id
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise ConflictError(f"the user name {account.username!r} is already taken") from None


async def username_taken(session: AsyncSession, username_key: str) -> bool:
    stmt = select(exists().where(Account.username_key == username_key, Account.domain == ""))
    return bool(await session.scalar(stmt))


async def get_account_by_username(
    session: AsyncSession, username_key: str, domain: str = ""
) -> Account | None:
    stmt = select(Account).where(Account.username_key == username_key, Account.domain == domain)
    return (await session.scalars(stmt)).first()


async def get_accounts_by_acct(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> list[Account]:
    pairs = list(keys)
    if not pairs:
        return []
    cond = or_(*(and_(Account.username_key == u, Account.domain == d) for u, d in pairs))
    return list((await session.scalars(select(Account).where(cond))).all())


async def get_user_by_username(session: AsyncSession, username_key: str) -> User | None:
    stmt = (
        select(User)
        .join(Account, User.account_id == Account.id)
        .where(Account.username_key == username_key, Account.domain == "")
        .options(joinedload(User.account))
    )
    return (await session.scalars(stmt)).first()


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    stmt = select(User).where(User.id == user_id).options(joinedload(User.account))
    return (await session.scalars(stmt)).first()


async def list_users(session: AsyncSession) -> Sequence[User]:
    stmt = select(User).options(joinedload(User.account)).order_by(User.id)
    return (await session.scalars(stmt)).all()


async def count_admins(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(User.role == Role.ADMIN)) or 0)


# --- sessions ---------------------------------------------------------------------------


async def add_login_session(session: AsyncSession, login: LoginSession) -> None:
    session.add(login)
    await session.flush()


async def get_login_session_user(
    session: AsyncSession, session_id: str, now: datetime
) -> User | None:
    stmt = (
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.id == session_id, LoginSession.expires_at > now)
        .options(joinedload(User.account))
    )
    return (await session.scalars(stmt)).first()


async def delete_login_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.id == session_id))


async def delete_user_sessions(
    session: AsyncSession, user_id: int, *, keep: str | None = None
) -> None:
    """Every log-in of `user_id` ends, except the session `keep` (an id) if given."""
    stmt = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep)
    await session.execute(stmt)


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))


# --- follows ----------------------------------------------------------------------------


async def get_follow(session: AsyncSession, follower_id: int, target_id: int) -> Follow | None:
    stmt = select(Follow).where(
        Follow.account_id == follower_id, Follow.target_account_id == target_id
    )
    return (await session.scalars(stmt)).first()


async def add_follow(session: AsyncSession, follow: Follow) -> Follow:
    """Idempotent: following twice returns the existing row."""
    try:
        async with session.begin_nested():
            session.add(follow)
    except IntegrityError:
        existing = await get_follow(session, follow.account_id, follow.target_account_id)
        assert existing is not None
        return existing
    return follow


async def delete_follow(session: AsyncSession, follower_id: int, target_id: int) -> bool:
    result = await session.execute(
        delete(Follow).where(
            Follow.account_id == follower_id, Follow.target_account_id == target_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def follow_counts(session: AsyncSession, account_id: int) -> tuple[int, int]:
    accepted = Follow.state == FollowState.ACCEPTED
    following = await session.scalar(
        select(func.count()).where(Follow.account_id == account_id, accepted)
    )
    followers = await session.scalar(
        select(func.count()).where(Follow.target_account_id == account_id, accepted)
    )
    return int(following or 0), int(followers or 0)


# --- posts ------------------------------------------------------------------------------


async def add_post(
    session: AsyncSession, post: Post, *, tags: Iterable[str], mention_ids: Iterable[int]
) -> None:
    session.add(post)
    await session.flush()
    session.add_all(PostTag(post_id=post.id, tag=t) for t in tags)
    session.add_all(PostMention(post_id=post.id, account_id=a) for a in mention_ids)
    await session.flush()


async def get_post(session: AsyncSession, post_id: int) -> Post | None:
    stmt = select(Post).where(Post.id == post_id).options(*POST_LOADS)
    return (await session.scalars(stmt)).first()


async def delete_post(session: AsyncSession, post_id: int) -> None:
    await session.execute(delete(Post).where(Post.id == post_id))


async def is_mentioned(session: AsyncSession, post_id: int, account_id: int) -> bool:
    stmt = select(
        exists().where(PostMention.post_id == post_id, PostMention.account_id == account_id)
    )
    return bool(await session.scalar(stmt))


async def follows_accepted(session: AsyncSession, follower_id: int, target_id: int) -> bool:
    stmt = select(
        exists().where(
            Follow.account_id == follower_id,
            Follow.target_account_id == target_id,
            Follow.state == FollowState.ACCEPTED,
        )
    )
    return bool(await session.scalar(stmt))


async def count_local_posts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Post.local.is_(True))) or 0)


_SUSPENDED = select(Account.id).where(Account.suspended_at.is_not(None))
_BOOSTED = aliased(Post)
# Instance moderation: nothing by a suspended account in any timeline, boosted or not.
NOT_SUSPENDED = (
    Post.account_id.not_in(_SUSPENDED),
    ~exists().where(_BOOSTED.id == Post.reblog_of_id, _BOOSTED.account_id.in_(_SUSPENDED)),
)


async def _page(
    session: AsyncSession, where: ColumnElement[bool], max_id: int | None, limit: int
) -> list[Post]:
    stmt = select(Post).options(*POST_LOADS).where(where, *NOT_SUSPENDED)
    if max_id is not None:
        stmt = stmt.where(Post.id < max_id)
    stmt = stmt.order_by(Post.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def account_timeline(
    session: AsyncSession,
    account_id: int,
    *,
    visibilities: Sequence[str],
    max_id: int | None,
    limit: int = PAGE_SIZE,
) -> list[Post]:
    where = and_(Post.account_id == account_id, Post.visibility.in_(visibilities))
    return await _page(session, where, max_id, limit)


async def pending_followers(session: AsyncSession, target_id: int) -> list[Account]:
    stmt = (
        select(Account)
        .join(Follow, Follow.account_id == Account.id)
        .where(Follow.target_account_id == target_id, Follow.state == FollowState.PENDING)
        .order_by(Follow.id)
    )
    return list((await session.scalars(stmt)).all())


# --- federation: actors, collections, discovery -------------------------------------------


async def get_account_by_uri(session: AsyncSession, uri: str) -> Account | None:
    return (await session.scalars(select(Account).where(Account.uri == uri))).first()


async def get_account(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def add_account(session: AsyncSession, account: Account) -> Account:
    """Insert, or return the row another request inserted first for the same uri."""
    try:
        async with session.begin_nested():
            session.add(account)
    except IntegrityError:
        existing = await get_account_by_uri(session, account.uri)
        if existing is None:
            raise ConflictError(f"{account.acct} is already known under another id") from None
        return existing
    return account


async def search_accounts(session: AsyncSession, text: str, *, limit: int = 20) -> list[Account]:
    pattern = f"%{text.casefold().replace('%', '').replace('_', '')}%"
    stmt = (
        select(Account)
        .where(
            or_(Account.username_key.like(pattern), func.lower(Account.display_name).like(pattern)),
            Account.actor_type != ActorType.APPLICATION,
            Account.suspended_at.is_(None),
        )
        .order_by(Account.domain != "", Account.username_key)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def count_users(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(User).where(User.approved.is_(True))
    return int(await session.scalar(stmt) or 0)


async def count_active_users(session: AsyncSession, since: datetime, since_id: int) -> int:
    """Users who logged in or posted since then (NodeInfo activeMonth/activeHalfyear)."""
    posted = exists().where(Post.account_id == User.account_id, Post.id >= since_id)
    stmt = (
        select(func.count())
        .select_from(User)
        .where(User.approved.is_(True), or_(User.last_login_at >= since, posted))
    )
    return int(await session.scalar(stmt) or 0)


async def count_account_posts(
    session: AsyncSession, account_id: int, visibilities: Sequence[str]
) -> int:
    stmt = select(func.count()).where(
        Post.account_id == account_id, Post.visibility.in_(visibilities)
    )
    return int(await session.scalar(stmt) or 0)


async def follower_uris(
    session: AsyncSession, account_id: int, *, offset: int, limit: int
) -> list[str]:
    stmt = (
        select(Account.uri)
        .join(Follow, Follow.account_id == Account.id)
        .where(Follow.target_account_id == account_id, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def following_uris(
    session: AsyncSession, account_id: int, *, offset: int, limit: int
) -> list[str]:
    stmt = (
        select(Account.uri)
        .join(Follow, Follow.target_account_id == Account.id)
        .where(Follow.account_id == account_id, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def mentions_for_posts(
    session: AsyncSession, post_ids: Sequence[int]
) -> dict[int, list[Account]]:
    result: dict[int, list[Account]] = {post_id: [] for post_id in post_ids}
    if not post_ids:
        return result
    stmt = (
        select(PostMention.post_id, Account)
        .join(Account, Account.id == PostMention.account_id)
        .where(PostMention.post_id.in_(post_ids))
        .order_by(Account.id)
    )
    for post_id, account in (await session.execute(stmt)).all():
        result[post_id].append(account)
    return result


async def tags_for_posts(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    if not post_ids:
        return result
    stmt = select(PostTag.post_id, PostTag.tag).where(PostTag.post_id.in_(post_ids))
    for post_id, tag in (await session.execute(stmt)).all():
        result[post_id].append(tag)
    return result


# --- inbox and peers ----------------------------------------------------------------------


async def get_account_by_key_id(session: AsyncSession, key_id: str) -> Account | None:
    stmt = select(Account).where(Account.public_key_id == key_id)
    return (await session.scalars(stmt)).first()


async def get_peer(session: AsyncSession, domain: str) -> PeerDomain | None:
    return await session.get(PeerDomain, domain)


async def peer_software(session: AsyncSession, domains: Iterable[str]) -> dict[str, str | None]:
    """NodeInfo software.name of each domain we know it for (one query)."""
    wanted = list(set(domains))
    if not wanted:
        return {}
    stmt = select(PeerDomain.domain, PeerDomain.software).where(PeerDomain.domain.in_(wanted))
    return {domain: software for domain, software in (await session.execute(stmt)).all()}


async def _peer(session: AsyncSession, domain: str, now: datetime) -> PeerDomain:
    """The domain's row, made on first contact (two workers may race to make it)."""
    peer = await session.get(PeerDomain, domain)
    if peer is None:
        try:
            async with session.begin_nested():
                peer = PeerDomain(domain=domain, updated_at=now)
                session.add(peer)
        except IntegrityError:
            peer = await session.get(PeerDomain, domain)
            assert peer is not None
    return peer


async def remember_signature_scheme(
    session: AsyncSession, domain: str, scheme: str, now: datetime
) -> None:
    peer = await _peer(session, domain, now)
    peer.signature_scheme = scheme
    peer.updated_at = now


async def remember_software(
    session: AsyncSession, domain: str, software: str | None, now: datetime
) -> None:
    peer = await _peer(session, domain, now)
    peer.software = software
    peer.software_checked_at = now


async def follower_inboxes(session: AsyncSession, account_id: int) -> list[tuple[str, str]]:
    """(inbox, domain) of remote followers, one shared inbox per server where it has one."""
    stmt = (
        select(Account.shared_inbox_url, Account.inbox_url, Account.domain)
        .join(Follow, Follow.account_id == Account.id)
        .where(
            Follow.target_account_id == account_id,
            Follow.state == FollowState.ACCEPTED,
            Account.domain != "",
        )
    )
    targets: dict[str, str] = {}
    for shared, inbox, domain in (await session.execute(stmt)).all():
        url = shared or inbox
        if url:
            targets[url] = domain
    return list(targets.items())


async def get_follow_by_uri(session: AsyncSession, uri: str) -> Follow | None:
    return (await session.scalars(select(Follow).where(Follow.uri == uri))).first()


async def get_post_by_uri(session: AsyncSession, uri: str) -> Post | None:
    stmt = select(Post).where(Post.uri == uri).options(*POST_LOADS)
    return (await session.scalars(stmt)).first()


async def get_accounts_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Account]:
    if not ids:
        return []
    return list((await session.scalars(select(Account).where(Account.id.in_(set(ids))))).all())


async def get_accounts_by_uris(session: AsyncSession, uris: Sequence[str]) -> list[Account]:
    if not uris:
        return []
    return list((await session.scalars(select(Account).where(Account.uri.in_(uris)))).all())


async def replace_tags(session: AsyncSession, post_id: int, tags: Iterable[str]) -> None:
    await session.execute(delete(PostTag).where(PostTag.post_id == post_id))
    session.add_all(PostTag(post_id=post_id, tag=t) for t in dict.fromkeys(tags))
    await session.flush()


async def delete_account_content(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(Post).where(Post.account_id == account_id))
    await session.execute(
        delete(Follow).where(
            or_(Follow.account_id == account_id, Follow.target_account_id == account_id)
        )
    )
