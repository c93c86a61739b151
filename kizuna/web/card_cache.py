"""Rendered post cards, kept for reuse.

A home page re-renders the same forty cards on every load, and a live post goes to every
open page: rendering was 7.6 ms of a home page's CPU. A card's HTML depends only on what the
key below holds (the post and the card columns of its accounts, the relative time as shown,
the counts and the viewer's own likes and reactions, whether the viewer wrote it), so one
rendering serves every request with the same key; the session's CSRF token goes in after.

The token goes in at the offsets of the cards' CSRF fields, found once when the card is
rendered, never by replacing a string over the card: a card holds other servers' text and URLs,
and a fixed placeholder written into a remote avatar or link would have sent every reader's
token there. The card is rendered with a marker drawn per process (never shown to anyone:
nothing outside can write it), cut at each marker, and each cut must sit inside
`name="csrf_token" value="…"`; a card where that does not hold is rendered with the real token
and not cached.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from markupsafe import Markup, escape

CACHE_SIZE = 1024  # ~4 KB a card: a few MB at most
_FIELD_BEFORE = 'name="csrf_token" value="'
_FIELD_AFTER = '"'

Card = tuple[str, ...]  # the rendered card cut where the viewer's CSRF token goes
# Stands in for the viewer's token while a shared card is rendered: drawn per process, never
# sent to anyone, so no other server can write it into what we store.
TOKEN_MARKER = f"csrf-marker-{secrets.token_hex(16)}"


def token_slots(html: str, marker: str) -> Card | None:
    """`html` cut at each `marker`, or None if a marker is anywhere but a CSRF field value."""
    parts = tuple(html.split(marker))
    for before, after in itertools.pairwise(parts):
        if not (before.endswith(_FIELD_BEFORE) and after.startswith(_FIELD_AFTER)):
            return None
    return parts


class CardCache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._cards: OrderedDict[Hashable, Card] = OrderedDict()

    def get(self, key: Hashable) -> Card | None:
        card = self._cards.get(key)
        if card is not None:
            self._cards.move_to_end(key)
        return card

    def put(self, key: Hashable, card: Card) -> None:
        self._cards[key] = card
        if len(self._cards) > self.size:
            self._cards.popitem(last=False)


def _account(account: Any) -> tuple[object, ...] | None:
    if account is None:
        return None
    return (
        account.id,
        account.username,
        account.domain,
        account.display_name,
        account.avatar_path,
        account.avatar_remote_url,
    )


def card_key(
    post: Any,
    user: Any,
    stats: Mapping[int, object] | None,
    inserted: bool,
    show_community: bool,
    reactions: Mapping[int, object] | None,
    ago: Callable[[Any], str],
) -> tuple[object, ...]:
    """Everything _post.html's post_card reads (its accounts are loaded with the card
    columns only: reading another raises, so nothing outside this key can slip in)."""
    shown = post.reblog_of or post
    return (
        post.id,
        _account(post.account) if post.reblog_of is not None else None,
        _account(post.community) if show_community and post.community_id else None,
        shown.id,
        _account(shown.account),
        shown.language,
        shown.created_at,
        ago(shown.created_at),
        shown.updated_at,
        shown.in_reply_to_id,
        shown.in_reply_to_uri,
        shown.summary,
        shown.content_html,
        shown.visibility,
        None if user is None else user.account.id == shown.account_id,
        inserted,
        show_community,
        repr(stats.get(shown.id)) if stats else None,
        repr(reactions.get(shown.id)) if reactions else None,
    )


def cached_card(
    cache: CardCache, macro: Callable[..., str], ago: Callable[[Any], str]
) -> Callable[..., Markup]:
    """A drop-in for the post_card macro that renders each distinct card once."""

    def card(
        post: Any,
        user: Any,
        csrf_token: str,
        stats: Mapping[int, object] | None = None,
        inserted: bool = False,
        show_community: bool = True,
        reactions: Mapping[int, object] | None = None,
    ) -> Markup:
        args = (stats, inserted, show_community, reactions)
        key = card_key(post, user, stats, inserted, show_community, reactions, ago)
        parts = cache.get(key)
        if parts is None:
            parts = token_slots(str(macro(post, user, TOKEN_MARKER, *args)), TOKEN_MARKER)
            if parts is None:  # the marker turned up outside a field: no shared rendering
                return Markup(macro(post, user, csrf_token, *args))
            cache.put(key, parts)
        return Markup(str(escape(csrf_token)).join(parts))  # each part rendered escaped

    return card
