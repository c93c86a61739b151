"""Whose word an activity relayed by a Group is (FEP-1b12 `Announce` of an activity).

The group signed the Announce, not the activity inside it, so the inner `actor` is only a
claim. Every kind a group may relay rests on one of these, and on nothing else:

- Create/Update of a post: the post itself is believed as its origin serves it (on the
  group's own host, or fetched from its id; `GroupInbox._thread`); the inner actor must be
  its author.
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

Never for our own accounts: what they do we know first hand. Their own activities coming
back through a group are ignored; anything else naming one of them as its actor is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.objects import activity_type
from kizuna.activitypub.vocab import JsonObject, get_id
from kizuna.config import Config
from kizuna.federation.client import FederationClient
from kizuna.federation.errors import IdentityMismatchError
from kizuna.storage.models import Account


def _host(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "").lower()


@dataclass(frozen=True, slots=True)
class RelayedActivities:
    client: FederationClient
    config: Config

    def ours(self, url: str | None) -> bool:
        host = _host(url)
        return bool(host) and host in (self.config.domain, _host(self.config.base_url))

    def echoed(self, group: Account, inner: JsonObject) -> bool:
        """True for one of our own accounts' activities coming back through `group`
        (ignore it: we hold the original). Raises IdentityMismatchError for anything
        else that names one of our accounts as its actor."""
        actor = get_id(inner.get("actor"))
        if not self.ours(actor):
            return False
        if self.ours(get_id(inner.get("id"))):
            return True
        raise IdentityMismatchError(
            f"{group.uri} relayed a {activity_type(inner)} as our account {actor}"
        )

    async def vouched(self, group: Account, inner: JsonObject) -> JsonObject:
        """The inner activity to act on as its actor: `inner` itself when the actor lives on
        the group's host, else the copy its origin serves, which must match. Raises
        IdentityMismatchError, or the fetch's error (a 404 refuses for good)."""
        ident, actor = get_id(inner.get("id")), get_id(inner.get("actor"))
        if ident is None or actor is None:
            raise InvalidActivityError("a relayed activity needs an id and an actor")
        if self.ours(actor):
            raise IdentityMismatchError(f"{group.uri} cannot speak for our account {actor}")
        if _host(ident) != _host(actor):
            raise IdentityMismatchError(f"{actor} cannot make activities with ids like {ident}")
        if _host(actor) == _host(group.uri):
            return inner
        fetched = await self.client.get_json(ident)
        origin = fetched.doc
        if (
            _host(fetched.url) != _host(ident)
            or get_id(origin.get("id")) != ident
            or activity_type(origin) != activity_type(inner)
            or get_id(origin.get("actor")) != actor
            or get_id(origin.get("object")) != get_id(inner.get("object"))
        ):
            raise IdentityMismatchError(f"{group.uri} relayed {ident} unlike its origin serves it")
        return origin
