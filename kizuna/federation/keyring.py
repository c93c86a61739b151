"""Public keys of remote actors: memory, then database, then a (signed) fetch.

The steady state is a dictionary hit: verifying a request costs one hash and one signature
check. An unknown keyId is fetched at most once a minute. A cached key that fails a check is
refetched at once, as Mastodon's SignatureVerification#actor_refresh_key! does, so a peer
that rotated its key is not refused meanwhile; but only when that key (and any key of its
owner) was fetched more than REFRESH_AFTER ago, so a flood of bad signatures costs the peer
at most one fetch per REFRESH_AFTER. Concurrent requests for the same key share one fetch.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from kizuna.activitypub.errors import SignatureError
from kizuna.federation.errors import FetchError
from kizuna.federation.lookup import RemoteAccountService
from kizuna.federation.signatures import (
    PublicKey,
    load_multikey,
    load_public_key_pem,
)
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.models import Account

REFETCH_INTERVAL = 60.0  # an unknown key is not fetched again sooner
REFRESH_AFTER = 5.0  # a failing cached key at least this old is refetched at once
MEMORY_SIZE = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedKey:
    key: PublicKey
    cached: bool  # True: from memory/database, so a failed check may deserve one refetch


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def key_from_account(account: Account, key_id: str) -> PublicKey:
    """The key `key_id` among the account's keys: the RSA main key or a FEP-521a Multikey."""
    if account.public_key_pem and account.public_key_id in (key_id, None):
        return PublicKey(
            key_id=key_id, owner=account.uri, key=load_public_key_pem(account.public_key_pem)
        )
    methods = (account.raw or {}).get("assertionMethod") or []
    for method in methods if isinstance(methods, list) else [methods]:
        if (
            isinstance(method, dict)
            and method.get("id") == key_id
            and method.get("type") == "Multikey"
            and method.get("controller") == account.uri
            and isinstance(method.get("publicKeyMultibase"), str)
        ):
            key = load_multikey(method["publicKeyMultibase"])
            return PublicKey(key_id=key_id, owner=account.uri, key=key)
    raise SignatureError(f"{account.uri} has no key {key_id}")


class KeyRing:
    def __init__(
        self,
        db: Database,
        remote_accounts: RemoteAccountService,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.remote_accounts = remote_accounts
        self.monotonic = monotonic
        self._memory: OrderedDict[str, PublicKey] = OrderedDict()
        self._fetched_at: dict[str, float] = {}  # keyId → last fetch started
        self._refreshed_at: dict[str, float] = {}  # key owner → last refresh started
        self._inflight: dict[str, asyncio.Task[PublicKey]] = {}

    def _remember(self, key: PublicKey) -> PublicKey:
        self._memory[key.key_id] = key
        self._memory.move_to_end(key.key_id)
        while len(self._memory) > MEMORY_SIZE:
            self._memory.popitem(last=False)
        return key

    async def get(self, key_id: str) -> ResolvedKey:
        key = self._memory.get(key_id)
        if key is not None:
            self._memory.move_to_end(key_id)
            return ResolvedKey(key=key, cached=True)
        async with self.db.begin() as session:
            account = await repo.get_account_by_key_id(session, key_id)
            if account is None:
                account = await repo.get_account_by_uri(session, _without_fragment(key_id))
        if account is not None and not account.is_local:
            try:
                return ResolvedKey(
                    key=self._remember(key_from_account(account, key_id)), cached=True
                )
            except SignatureError:
                # Not among the keys we have: the actor may have added it. Limited per actor,
                # so made-up keyIds (…#k1, …#k2) cannot make us fetch its document each time.
                fresh = await self._refetch(key_id, account.uri)
                if fresh is None:
                    raise SignatureError(
                        f"{account.uri} was fetched less than {REFRESH_AFTER:g} s ago"
                    ) from None
                return ResolvedKey(key=fresh, cached=False)
        return ResolvedKey(key=await self._fetch(key_id), cached=False)

    async def refresh(self, key_id: str) -> PublicKey | None:
        """A fresh copy after a failed check (key rotation); None when this key or another
        key of its owner was fetched less than REFRESH_AFTER ago."""
        cached = self._memory.get(key_id)
        return await self._refetch(key_id, cached.owner if cached is not None else None)

    async def _refetch(self, key_id: str, owner: str | None) -> PublicKey | None:
        """Fetch `key_id` again unless it, or any key of `owner`, was fetched less than
        REFRESH_AFTER ago (then None). A fetch already under way is shared: requests signed
        with the new key wait for it rather than fail."""
        task = self._inflight.get(key_id)
        if task is not None:
            return await asyncio.shield(task)
        now = self.monotonic()
        last = max(
            self._fetched_at.get(key_id, -math.inf),
            self._refreshed_at.get(owner, -math.inf) if owner else -math.inf,
        )
        if now - last < REFRESH_AFTER:
            return None
        if owner:
            self._refreshed_at[owner] = now
            _prune(self._refreshed_at, now - REFRESH_AFTER)
        return await self._fetch(key_id, interval=REFRESH_AFTER, fresh=True)

    async def _fetch(
        self, key_id: str, interval: float = REFETCH_INTERVAL, *, fresh: bool = False
    ) -> PublicKey:
        """`fresh`: a new copy is wanted (rotation), not the one in memory."""
        task = self._inflight.get(key_id)
        if task is None:
            key = self._memory.get(key_id)
            if key is not None and not fresh:
                # An unknown key that a concurrent request fetched while this one looked in
                # the database (before the account was stored): use it, do not refuse.
                return key
            last = self._fetched_at.get(key_id)
            if last is not None and self.monotonic() - last < interval:
                raise SignatureError(f"key {key_id} was fetched less than {interval:g} s ago")
            self._fetched_at[key_id] = self.monotonic()
            _prune(self._fetched_at, self.monotonic() - REFETCH_INTERVAL)
            task = asyncio.ensure_future(self._fetch_now(key_id))
            self._inflight[key_id] = task
            task.add_done_callback(lambda done: self._settled(key_id, done))
        return await asyncio.shield(task)

    async def _fetch_now(self, key_id: str) -> PublicKey:
        try:
            account = await self.remote_accounts.fetch_key_owner(key_id)
        except FetchError as exc:
            raise SignatureError(f"could not fetch key {key_id}: {exc}") from None
        return self._remember(key_from_account(account, key_id))

    def _settled(self, key_id: str, task: asyncio.Task[PublicKey]) -> None:
        self._inflight.pop(key_id, None)
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have gone away


def _prune(times: dict[str, float], before: float) -> None:
    """Past MEMORY_SIZE entries, forget the times that no longer limit anything (made-up
    keyIds must not grow memory without bound)."""
    if len(times) > MEMORY_SIZE:
        for name in [n for n, t in times.items() if t < before]:
            del times[name]
