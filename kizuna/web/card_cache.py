"""Rendered post cards, kept for reuse.

A home page re-renders the same forty cards on every load, and a live post goes to every
open page: rendering was 7.6 ms of a home page's CPU. A card's HTML depends only on what the
key below holds (the post and the card columns of its accounts, the relative time as shown,
the counts and the viewer's own likes and reactions, whether the viewer wrote it), so one
rendering serves every request with the same key; the session's CSRF token goes in after.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from markupsafe import Markup

# Stands in for the session's CSRF token in a shared rendering; never a real token (hex).
CSRF_PLACEHOLDER = "card-csrf-token-placeholder"
CACHE_SIZE = 1024  # ~4 KB a card: a few MB at most


class CardCache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._cards: OrderedDict[Hashable, str] = OrderedDict()

    def get(self, key: Hashable) -> str | None:
        html = self._cards.get(key)
        if html is not None:
            self._cards.move_to_end(key)
        return html

    def put(self, key: Hashable, html: str) -> None:
        self._cards[key] = html
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
        key = card_key(post, user, stats, inserted, show_community, reactions, ago)
        html = cache.get(key)
        if html is None:
            html = str(
                macro(post, user, CSRF_PLACEHOLDER, stats, inserted, show_community, reactions)
            )
            cache.put(key, html)
        return Markup(html.replace(CSRF_PLACEHOLDER, csrf_token))  # a hex token: safe

    return card
