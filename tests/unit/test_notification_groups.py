"""Likes and reactions to one post collapse into one notification (web.notification_groups)."""

from __future__ import annotations

from datetime import UTC, datetime

from kizuna.storage.models import Account, CustomEmoji, Notification
from kizuna.web.notification_groups import group_notifications

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PEOPLE = {
    name: Account(id=index, username=name, domain="", display_name="")
    for index, name in enumerate(["alice", "bob", "carol", "dave", "erin"], start=1)
}


def _n(
    id: int, kind: str, who: str, post_id: int | None = 100, emoji: str | None = None
) -> Notification:
    account = PEOPLE[who]
    return Notification(
        id=id,
        kind=kind,
        from_account_id=account.id,
        from_account=account,
        post_id=post_id,
        emoji=emoji,
        created_at=NOW,
    )


def test_group__reactions_and_likes_on_one_post_make_one_entry_wherever_they_stand() -> None:
    items = [  # newest first, as the page lists them
        _n(9, "reaction", "alice", emoji="👍"),
        _n(8, "follow", "erin", post_id=None),
        _n(7, "reaction", "bob", emoji="🎉"),
        _n(6, "reply", "erin", post_id=200),
        _n(5, "reaction", "carol", emoji="👍"),
        _n(4, "reaction", "dave", emoji="❤️"),
        _n(3, "reaction", "alice", emoji="🎉"),  # alice again: named once
    ]

    entries = group_notifications(items)

    assert [e.latest.id for e in entries] == [9, 8, 6]
    assert [e.text() for e in entries] == [
        "alice, bob and 2 others reacted 👍 🎉 ❤️ to your post",
        "erin followed you",
        "erin replied to you",
    ]
    assert [a.username for a in entries[0].accounts] == ["alice", "bob", "carol", "dave"]


def test_group__posts_are_kept_apart() -> None:
    entries = group_notifications(
        [
            _n(4, "like", "alice", post_id=1),
            _n(3, "like", "bob", post_id=2),
            _n(2, "like", "carol", post_id=1),
        ]
    )

    assert [(e.latest.post_id, e.text()) for e in entries] == [
        (1, "alice and carol liked your post"),
        (2, "bob liked your post"),
    ]


def test_group__likes_with_reactions_and_three_names() -> None:
    entries = group_notifications(
        [
            _n(3, "reaction", "carol", emoji="😮"),
            _n(2, "like", "bob"),
            _n(1, "reaction", "alice", emoji=":blobcat:"),
        ]
    )

    assert len(entries) == 1
    assert entries[0].text() == "carol, bob and alice liked or reacted 😮 :blobcat: to your post"
    assert entries[0].liked
    assert entries[0].others == 0


def test_group__other_kinds_never_group() -> None:
    entries = group_notifications([_n(2, "boost", "alice"), _n(1, "boost", "bob")])

    assert [e.text() for e in entries] == ["alice boosted your post", "bob boosted your post"]
    assert not any(e.grouped for e in entries)


def test_group__empty_page() -> None:
    assert group_notifications([]) == []


def test_group__custom_emoji_keep_their_server_and_image() -> None:
    theirs = CustomEmoji(
        id=7,
        shortcode="blobcat",
        domain="misskey.example",
        image_path="emoji/misskey.example/blobcat.png",
    )
    ours = CustomEmoji(id=8, shortcode="blobcat", domain="", image_path=None)
    remote, local = (
        _n(2, "reaction", "bob", emoji=":blobcat:"),
        _n(1, "reaction", "alice", emoji=":blobcat:"),
    )
    remote.custom_emoji, local.custom_emoji = theirs, ours
    (entry,) = group_notifications([remote, local])
    assert entry.emoji == [":blobcat@misskey.example:", ":blobcat:"]
    assert entry.images == {":blobcat@misskey.example:": "/media/emoji/misskey.example/blobcat.png"}
