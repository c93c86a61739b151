"""kizuna.activitypub.ids: every id we mint keeps the exact shape peers already hold."""

from __future__ import annotations

import pytest

from kizuna.activitypub import ids
from kizuna.activitypub.vocab import ActorType

BASE = "https://a.test"
ALICE = f"{BASE}/users/alice"
NOTE = f"{ALICE}/statuses/7"
GROUP = f"{BASE}/c/tea"


def test_user_urls__mastodon_paths() -> None:
    urls = ids.user_urls(BASE, "alice")

    assert urls == ids.ActorUrls(
        id=ALICE,
        profile=f"{BASE}/@alice",
        inbox=f"{ALICE}/inbox",
        outbox=f"{ALICE}/outbox",
        followers=f"{ALICE}/followers",
        following=f"{ALICE}/following",
        featured=f"{ALICE}/collections/featured",
        featured_tags=f"{ALICE}/collections/tags",
        shared_inbox=f"{BASE}/inbox",
        key_id=f"{ALICE}#main-key",
    )


def test_group_urls__profile_is_the_actor() -> None:
    urls = ids.group_urls(BASE, "tea")

    assert (urls.id, urls.profile, urls.inbox, urls.key_id) == (
        GROUP,
        GROUP,
        f"{GROUP}/inbox",
        f"{GROUP}#main-key",
    )


def test_instance_urls__actor_and_about() -> None:
    urls = ids.instance_urls(BASE)

    assert (urls.id, urls.profile, urls.outbox, urls.key_id) == (
        f"{BASE}/actor",
        f"{BASE}/about",
        f"{BASE}/actor/outbox",
        f"{BASE}/actor#main-key",
    )


@pytest.mark.parametrize(
    ("actor_type", "expected"),
    [
        (ActorType.PERSON, ALICE),
        (ActorType.SERVICE, ALICE),
        (ActorType.GROUP, f"{BASE}/c/alice"),
        (ActorType.APPLICATION, f"{BASE}/actor"),
    ],
)
def test_local_actor_urls__by_type(actor_type: ActorType, expected: str) -> None:
    assert ids.local_actor_urls(BASE, actor_type, "alice").id == expected


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        (GROUP, "tea"),
        (f"{GROUP}/outbox", "tea"),
        (f"{BASE}/c/", ""),
        (ALICE, None),
        ("https://b.test/c/tea", None),
    ],
)
def test_local_group_slug__inverse_of_group_urls(url: str, slug: str | None) -> None:
    assert ids.local_group_slug(BASE, url) == slug


def test_actor_collections() -> None:
    assert ids.key_id(ALICE) == f"{ALICE}#main-key"
    assert ids.followers_url(GROUP) == f"{GROUP}/followers"
    assert ids.featured_url(GROUP) == f"{GROUP}/collections/featured"
    assert ids.moderators_url(GROUP) == f"{GROUP}/moderators"


def test_status_urls() -> None:
    assert ids.status_url(BASE, "alice", 7) == NOTE
    assert ids.status_page_url(BASE, "alice", 7) == f"{BASE}/@alice/7"
    assert ids.status_activity_id(NOTE) == f"{NOTE}/activity"
    assert ids.likes_url(NOTE) == f"{NOTE}/likes"
    assert ids.reactions_url(NOTE) == f"{NOTE}/reactions"


def test_tag_path__quotes_everything_but_letters() -> None:
    assert ids.tag_path("東京/a b") == "/tags/%E6%9D%B1%E4%BA%AC%2Fa%20b"
    assert ids.tag_url(BASE, "tokyo") == f"{BASE}/tags/tokyo"


def test_emoji_and_media() -> None:
    assert ids.emoji_url(BASE, "blobcat") == f"{BASE}/emoji/blobcat"
    assert ids.media_path("emoji/a.test/x.png") == "/media/emoji/a.test/x.png"
    assert ids.media_url(BASE, "avatars/1.png") == f"{BASE}/media/avatars/1.png"


def test_follow_ids() -> None:
    assert ids.follow_id(ALICE, 42) == f"{ALICE}#follows/42"
    assert ids.unknown_follow_id(ALICE) == f"{ALICE}#follows/unknown"
    assert ids.follow_response_id(ALICE, 5, accept=True) == f"{ALICE}#accepts/follows/5"
    assert ids.follow_response_id(ALICE, 5, accept=False) == f"{ALICE}#rejects/follows/5"


def test_delete_update_undo_block() -> None:
    assert ids.delete_id(NOTE) == f"{NOTE}#delete"
    assert ids.delete_id(ALICE) == f"{ALICE}#delete"
    assert ids.update_id(NOTE, 1748779200) == f"{NOTE}#updates/1748779200"
    assert ids.undo_id(f"{ALICE}#follows/42") == f"{ALICE}#follows/42/undo"
    assert ids.block_id(ALICE, 9) == f"{ALICE}#blocks/9"


def test_reaction_ids() -> None:
    assert ids.reaction_url(ALICE, 3) == f"{ALICE}/reactions/3"
    assert ids.undo_id(ids.reaction_url(ALICE, 3)) == f"{ALICE}/reactions/3/undo"
    assert ids.status_reaction_id(NOTE, 3) == f"{NOTE}#reactions/3"


@pytest.mark.parametrize("kind", ["announce", "delete", "block", "undo", "add", "remove"])
def test_group_activity_id__lemmy_shape(kind: ids.GroupActivity) -> None:
    assert ids.group_activity_id(GROUP, kind, 11) == f"{GROUP}/activities/{kind}/11"


def test_flag_ids() -> None:
    token = "0b6f3c1e-52a4-4c1f-9f53-2f7d3f0c8a11"
    assert ids.flag_id(BASE, token) == f"{BASE}/{token}"
    assert ids.flag_report_uri("https://b.test/flag/1", 12) == "https://b.test/flag/1#12"


def test_outbox_pages() -> None:
    outbox = f"{ALICE}/outbox"

    assert ids.outbox_first_page(outbox) == f"{outbox}?page=true"
    assert ids.outbox_last_page(outbox) == f"{outbox}?min_id=0&page=true"
    assert ids.outbox_page(outbox, None) == f"{outbox}?page=true"
    assert ids.outbox_page(outbox, 99) == f"{outbox}?page=true&max_id=99"
    assert ids.outbox_next_page(outbox, 99) == f"{outbox}?max_id=99&page=true"


def test_collection_page() -> None:
    assert ids.collection_page(f"{ALICE}/followers", 2) == f"{ALICE}/followers?page=2"


def test_discovery() -> None:
    assert ids.nodeinfo_url(BASE, "2.1") == f"{BASE}/nodeinfo/2.1"
    assert ids.interaction_template(BASE) == f"{BASE}/authorize_interaction?uri={{uri}}"
    template = f"{BASE}/.well-known/webfinger?resource={{uri}}"
    assert ids.webfinger_template(BASE) == template
    assert ids.webfinger_template(f"{BASE}/") == template
