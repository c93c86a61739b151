"""The secure inbox: who signed it, is it theirs, store it once, answer 202.

Processing (follows, posts, reactions…) happens later from the stored rows; nothing here
does more than verify and persist, so a flood costs signature checks and inserts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from kizuna.activitypub.errors import InvalidActivityError, SignatureError
from kizuna.activitypub.vocab import ACTIVITY_TYPES, JsonObject, get_id, host_of, is_http_url
from kizuna.clock import utcnow
from kizuna.config import Config
from kizuna.errors import NotFoundError
from kizuna.federation.errors import DomainRefusedError, ForbiddenError
from kizuna.federation.keyring import KeyRing
from kizuna.federation.policy import FederationPolicy
from kizuna.federation.signatures import key_id_of, verify_request
from kizuna.inbox.writer import InboxWriter
from kizuna.storage import repo
from kizuna.storage.engine import Database
from kizuna.storage.ids import new_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Signer:
    key_id: str
    owner: str  # the actor the key belongs to
    scheme: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    activity_id: str
    duplicate: bool


class InboxService:
    def __init__(
        self,
        db: Database,
        config: Config,
        keyring: KeyRing,
        policy: FederationPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.keyring = keyring
        self.policy = policy
        self.clock = clock
        self.writer = InboxWriter(db)
        self._recipients: dict[str, int] = {}
        self._own_hosts = config.own_hosts

    async def _recipient_id(self, username: str) -> int:
        """Local inbox owners, cached: the hot path should not load whole account rows."""
        cached = self._recipients.get(username.casefold())
        if cached is not None:
            return cached
        async with self.db.begin() as session:
            account = await repo.get_account_by_username(session, username.casefold())
        instance = username == self.config.domain
        if account is None or account.is_instance_actor != instance:
            raise NotFoundError(f"no inbox for {username}")
        if len(self._recipients) < 10_000:
            self._recipients[username.casefold()] = account.id
        return account.id

    def _check_host(self, headers: Mapping[str, str]) -> None:
        """A signature made for another server's inbox must not be replayed to ours."""
        host = next((v for k, v in headers.items() if k.lower() == "host"), "").lower()
        if host not in self._own_hosts:
            raise SignatureError(f"the request was addressed to {host[:100]!r}, not to us")

    async def refuse_blocked(self, host: str) -> None:
        """DomainRefusedError (403) for a suspended or (allow-list mode) unlisted server."""
        decision = (await self.policy.fresh()).decide(host)
        if decision.refused:
            raise DomainRefusedError(
                f"{decision.reason}: {host[:255]} does not federate with this server",
                reason=decision.reason,
            )

    async def verify(
        self, *, method: str, path_qs: str, headers: Mapping[str, str], body: bytes | None
    ) -> Signer:
        """Raises SignatureError (401). A failed check with a cached key refetches it once.
        A blocked server's key is never fetched: the keyId's host is refused first (403)."""
        scheme, key_id = key_id_of(headers)
        await self.refuse_blocked(host_of(key_id))
        self._check_host(headers)
        url = self.config.base_url + path_qs
        payload = body if body is not None else b""
        resolved = await self.keyring.get(key_id)
        key = resolved.key
        try:
            verify_request(
                method=method,
                url=url,
                headers=headers,
                body=payload,
                public_key=key,
                now=self.clock(),
            )
        except SignatureError:
            fresh = await self.keyring.refresh(key_id) if resolved.cached else None
            if fresh is None:
                raise
            key = fresh
            verify_request(
                method=method,
                url=url,
                headers=headers,
                body=payload,
                public_key=key,
                now=self.clock(),
            )
        if not key.owner:
            raise SignatureError(f"key {key_id} has no owner")
        return Signer(key_id=key_id, owner=key.owner, scheme=scheme)

    async def receive(
        self, doc: JsonObject, signer: Signer, *, recipient: str | None = None
    ) -> Received:
        activity_id = doc.get("id")
        kind = doc.get("type")
        actor = get_id(doc.get("actor"))
        if not isinstance(activity_id, str) or not is_http_url(activity_id):
            raise InvalidActivityError("the activity has no http(s) id")
        if len(activity_id) > 2048:
            raise InvalidActivityError("the activity id is longer than 2048 characters")
        if not isinstance(kind, str) or kind not in ACTIVITY_TYPES:
            raise InvalidActivityError(f"unsupported activity type {str(kind)[:64]!r}")
        if actor is None or not is_http_url(actor):
            raise InvalidActivityError("the activity has no actor")
        if actor != signer.owner:
            raise ForbiddenError(f"signed by {signer.owner}, but the actor is {actor}")
        if host_of(activity_id) != host_of(actor):
            raise ForbiddenError(
                f"{host_of(actor)} cannot send activities with ids on another host"
            )
        await self.refuse_blocked(host_of(actor))
        recipient_id = await self._recipient_id(recipient) if recipient is not None else None
        stored = await self.writer.store(
            {
                "id": new_id(),
                "activity_id": activity_id,
                "activity_type": kind,
                "actor_uri": actor,
                "signer_key_id": signer.key_id,
                "recipient_id": recipient_id,
                "raw": doc,
                "received_at": self.clock(),
                "attempts": 0,
            }
        )
        if not stored:
            logger.info("duplicate %s %s from %s", kind, activity_id, host_of(actor))
        return Received(activity_id=activity_id, duplicate=not stored)
