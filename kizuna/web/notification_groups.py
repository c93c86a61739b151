"""Notifications as shown: likes and reactions to one post collapse into one entry (pure).

"alice, bob and 2 others reacted 👍 🎉 to your post" instead of four lines: within the
page shown, every like and reaction notification on the same post joins the entry of the
newest one, wherever it stood; the others (follows, replies, mentions, boosts) stay one
entry each. The page is newest first, and so are the entries and the people in each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from kizuna.services.custom_emoji import image_src
from kizuna.storage.models import Account, Notification

__all__ = ["GROUPED_KINDS", "NotificationEntry", "group_notifications"]

GROUPED_KINDS: Final = frozenset({"like", "reaction"})
NAMED: Final = 3  # up to three people are named; more read "a, b and N others"

ACTIONS: Final = {
    "follow": "followed you",
    "follow_request": "asked to follow you",
    "mention": "mentioned you",
    "reply": "replied to you",
    "boost": "boosted your post",
    "like": "liked your post",
}


@dataclass(slots=True, kw_only=True)
class NotificationEntry:
    latest: Notification  # the newest: its time and post
    accounts: list[Account] = field(default_factory=list)  # who, newest first, each once
    emoji: list[str] = field(default_factory=list)  # reactions given (not ""), each once
    images: dict[str, str] = field(default_factory=dict)  # custom emoji name → image path
    liked: bool = False  # a plain like among them

    @property
    def grouped(self) -> bool:
        return self.latest.kind in GROUPED_KINDS

    @property
    def named(self) -> list[Account]:
        """The people named; the rest are counted (`others`)."""
        if len(self.accounts) <= NAMED:
            return self.accounts
        return self.accounts[: NAMED - 1]

    @property
    def others(self) -> int:
        return len(self.accounts) - len(self.named)

    @property
    def verb(self) -> str:
        """What they did, before the emoji (if any; see `action` for the whole)."""
        if not self.grouped:
            return ACTIONS.get(self.latest.kind, "interacted with you")
        if not self.emoji:
            return "liked your post"
        return "liked or reacted" if self.liked else "reacted"

    @property
    def action(self) -> str:
        """What they did, after their names."""
        if not self.grouped or not self.emoji:
            return self.verb
        return f"{self.verb} {' '.join(self.emoji)} to your post"

    def text(self) -> str:
        """The entry as one plain sentence (the page draws the names as links)."""
        names = [a.name for a in self.named]
        if self.others:
            who = f"{', '.join(names)} and {self.others} others"
        elif len(names) > 1:
            who = f"{', '.join(names[:-1])} and {names[-1]}"
        else:
            who = names[0] if names else "someone"
        return f"{who} {self.action}"


def group_notifications(items: Sequence[Notification]) -> list[NotificationEntry]:
    """Entries in the order of their newest notification; `items` newest first."""
    entries: list[NotificationEntry] = []
    by_post: dict[int, NotificationEntry] = {}
    for item in items:
        entry = None
        if item.kind in GROUPED_KINDS and item.post_id is not None:
            entry = by_post.get(item.post_id)
            if entry is None:
                entry = by_post[item.post_id] = NotificationEntry(latest=item)
                entries.append(entry)
        else:
            entry = NotificationEntry(latest=item)
            entries.append(entry)
        if all(a.id != item.from_account_id for a in entry.accounts):
            entry.accounts.append(item.from_account)
        if item.kind == "like" or (item.kind == "reaction" and not item.emoji):
            entry.liked = True
        elif item.kind == "reaction" and item.emoji:
            name, image = _emoji(item)
            if name not in entry.emoji:
                entry.emoji.append(name)
            if image:
                entry.images[name] = image
    return entries


def _emoji(item: Notification) -> tuple[str, str | None]:
    """A reaction's name as shown (another server's custom emoji with its domain), and the
    image of a custom one (None for Unicode, or when it is not cached)."""
    custom = item.custom_emoji
    if custom is None or not item.emoji:
        return item.emoji or "", None
    name = item.emoji if custom.is_local else f":{custom.shortcode}@{custom.domain}:"
    return name, image_src(custom)
