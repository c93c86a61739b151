"""Finding remote accounts: handle or URL → WebFinger → actor document → an accounts row.

Mirrors Mastodon's ResolveAccountService: the WebFinger subject's domain is the account's
domain (checked again on that domain when it differs); the actor must come from the host it
claims; preferredUsername must match the handle. Nothing is stored unless all of that holds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from kizuna.activitypub.actors import RemoteActor, parse_actor
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.vocab import ACTOR_TYPES, ActorType, host_of
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError
from kizuna.federation.client import FederationClient
from kizuna.federation.errors import FetchError, IdentityMismatchError, ObjectNotFoundError
from kizuna.federation.peers import PeerSoftware
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.models import Account
from kizuna.webfinger.client import webfinger
from kizuna.webfinger.codec import parse_handle

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=1)
MAX_URL, MAX_USERNAME, MAX_NAME = 2048, 64, 255
_DOMAIN = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*(?::[0-9]{1,5})?")


def check_lengths(actor: RemoteActor) -> None:
    # Longer values would not fit the columns; such a document is not one we can store.
    urls = (
        actor.id,
        actor.inbox,
        actor.shared_inbox,
        actor.outbox,
        actor.followers,
        actor.following,
        actor.featured,
        actor.url,
        actor.public_key_id,
    )
    if any(u is not None and len(u) > MAX_URL for u in urls):
        raise InvalidActivityError("an actor URL is longer than 2048 characters")
    if len(actor.preferred_username) > MAX_USERNAME:
        raise InvalidActivityError("preferredUsername is longer than 64 characters")


def remote_key(preferred_username: str, actor_type: ActorType) -> str:
    """Lemmy has /u/rust and /c/rust side by side: a remote community's key gets a "!"."""
    key = preferred_username.casefold()
    return f"!{key}" if actor_type == ActorType.GROUP else key


def apply_actor(
    account: Account, actor: RemoteActor, domain: str, now: datetime, *, media: bool = True
) -> None:
    """`media` False (the domain's media are rejected): no avatar or header is kept."""
    account.username = actor.preferred_username
    account.username_key = remote_key(actor.preferred_username, actor.type)
    account.domain = domain
    account.uri = actor.id
    account.url = actor.url or actor.id
    account.actor_type = actor.type
    account.display_name = (actor.name or "")[:MAX_NAME]
    account.note = ""
    account.note_html = actor.summary_html
    account.fields = [
        {"name": f.name[:255], "value": "", "value_html": f.value_html} for f in actor.fields
    ]
    account.avatar_remote_url = (
        actor.icon_url if media and actor.icon_url and len(actor.icon_url) <= MAX_URL else None
    )
    account.header_remote_url = (
        actor.image_url if media and actor.image_url and len(actor.image_url) <= MAX_URL else None
    )
    account.inbox_url = actor.inbox
    account.shared_inbox_url = actor.shared_inbox
    account.outbox_url = actor.outbox
    account.followers_url = actor.followers
    account.following_url = actor.following
    account.featured_url = actor.featured
    account.public_key_id = actor.public_key_id
    account.public_key_pem = actor.public_key_pem
    account.locked = actor.manually_approves_followers
    account.discoverable = actor.discoverable
    account.raw = actor.raw
    account.fetched_at = now
    account.updated_at = now


class RemoteAccountService:
    def __init__(
        self,
        db: Database,
        config: Config,
        client: FederationClient,
        clock: Callable[[], datetime] = utcnow,
        software: PeerSoftware | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.client = client
        self.clock = clock
        self.software = software  # learns each new server's software from its NodeInfo

    async def resolve(self, query: str, *, refresh: bool = False) -> Account:
        """`@user@host`, `user@host`, `acct:user@host` or an actor/profile URL."""
        query = query.strip()
        if query.startswith(("https://", "http://")):
            return await self.resolve_url(query)
        username, host = parse_handle(query)
        return await self.resolve_handle(username, host, refresh=refresh)

    async def resolve_handle(self, username: str, host: str, *, refresh: bool = False) -> Account:
        if host == self.config.domain:
            async with self.db.begin() as session:
                local = await repo.get_account_by_username(session, username.casefold())
            if local is None:
                raise NotFoundError(f"no account @{username} here")
            return local
        await self.client.check_host(host)  # a blocked server's accounts are not found
        async with self.db.begin() as session:
            cached = await repo.get_account_by_username(session, username.casefold(), host)
        if cached is not None and not refresh and not self._stale(cached):
            return cached
        try:
            return await self._fetch_by_handle(username, host)
        except FetchError:
            if cached is None:
                raise
            logger.warning("refreshing %s@%s failed; keeping the cached copy", username, host)
            return cached

    async def resolve_url(self, url: str) -> Account:
        await self.client.check_host(host_of(url))
        async with self.db.begin() as session:
            cached = await repo.get_account_by_uri(session, url)
        if cached is not None and not self._stale(cached):
            return cached
        fetched = await self.client.get_json(url)
        actor = self._actor_from(fetched.url, fetched.doc)
        # The actor's own host must vouch for the handle, or another server could claim it.
        host = host_of(actor.id)
        try:
            finger = await webfinger(self.client, actor.preferred_username, host)
        except ObjectNotFoundError:
            return await self._store(actor, host)
        if finger.actor_url != actor.id:
            raise IdentityMismatchError(
                f"{host} says @{actor.preferred_username} is {finger.actor_url}, not {actor.id}"
            )
        return await self._store(actor, _subject_domain(finger.subject, host))

    async def fetch_key_owner(self, key_id: str) -> Account:
        """Fetch what a keyId names (an actor, or a key object with an owner) and store the
        actor: how an unknown signer becomes known. Never trusts a key served by another host."""
        fetched = await self.client.get_json(key_id)
        doc = fetched.doc
        if not _is_actor(doc):
            owner = doc.get("owner") or doc.get("controller")
            if not isinstance(owner, str) or host_of(owner) != host_of(key_id):
                raise IdentityMismatchError(f"{key_id} names no actor on its own host")
            fetched = await self.client.get_json(owner)
        actor = self._actor_from(fetched.url, fetched.doc)
        if host_of(actor.id) != host_of(key_id):
            raise IdentityMismatchError(f"{key_id} is served by {actor.id}")
        async with self.db.begin() as session:
            known = await repo.get_account_by_uri(session, actor.id)
        return await self._store(actor, known.domain if known else host_of(actor.id))

    def _stale(self, account: Account) -> bool:
        return account.fetched_at is None or self.clock() - account.fetched_at > STALE_AFTER

    async def _fetch_by_handle(self, username: str, host: str) -> Account:
        finger = await webfinger(self.client, username, host)
        domain = _subject_domain(finger.subject, host)
        if domain != host:
            # Split-domain setups: the subject's own domain must agree (Mastodon does the same).
            subject_user = finger.subject.removeprefix("acct:").rsplit("@", 1)[0]
            confirm = await webfinger(self.client, subject_user, domain)
            if confirm.actor_url != finger.actor_url:
                raise IdentityMismatchError(
                    f"{host} and {domain} disagree about who @{username} is"
                )
        fetched = await self.client.get_json(finger.actor_url)
        actor = self._actor_from(fetched.url, fetched.doc)
        if actor.preferred_username.casefold() != username.casefold() and domain == host:
            raise IdentityMismatchError(
                f"{finger.actor_url} is @{actor.preferred_username}, not @{username}"
            )
        return await self._store(actor, domain)

    def _actor_from(self, fetched_url: str, doc: dict[str, object]) -> RemoteActor:
        actor = parse_actor(doc)
        if host_of(actor.id) != host_of(fetched_url):
            raise IdentityMismatchError(
                f"the document fetched from {host_of(fetched_url)} claims to be {actor.id}"
            )
        if host_of(actor.id) == self.config.domain:
            raise IdentityMismatchError("a remote server served an actor of this instance")
        check_lengths(actor)
        return actor

    async def _store(self, actor: RemoteActor, domain: str) -> Account:
        if self.software is not None:
            await self.software.learn(domain)  # once a week per server at most
        return await self._upsert(actor, domain)

    async def _upsert(self, actor: RemoteActor, domain: str) -> Account:
        now = self.clock()
        media = await self.client.media_allowed(domain)
        async with self.db.begin() as session:
            account = await repo.get_account_by_uri(session, actor.id)
            if account is None:
                # Same handle under a new id: the domain's WebFinger now points elsewhere.
                account = await repo.get_account_by_username(
                    session, remote_key(actor.preferred_username, actor.type), domain
                )
            if account is None:
                account = Account(created_at=now)
                apply_actor(account, actor, domain, now, media=media)
                return await repo.add_account(session, account)
            apply_actor(account, actor, domain, now, media=media)
            return account


def _is_actor(doc: dict[str, object]) -> bool:
    kinds = doc.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(kind in ACTOR_TYPES for kind in kinds)


def _subject_domain(subject: str, fallback: str) -> str:
    """The domain of a WebFinger subject; one that is not a host name (it becomes part of
    every handle and link we show) counts as absent."""
    if subject.startswith("acct:") and "@" in subject:
        domain = subject.rsplit("@", 1)[1].lower()
        if _DOMAIN.fullmatch(domain):
            return domain
    return fallback
