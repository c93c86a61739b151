"""Unit tests for kizuna.activitypub.actors: actor_json (golden + Mastodon shape) and
parse_actor (Mastodon, Lemmy, variants, invalid documents). Pure, no I/O."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from kizuna.activitypub.actors import (
    Image,
    LocalActor,
    ProfileField,
    actor_json,
    parse_actor,
)
from kizuna.activitypub.context import ACTOR_CONTEXT
from kizuna.activitypub.errors import InvalidActivityError
from tests.unit.datafiles import assert_golden, peer_payload

PEM = (
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest\n"
    "-----END PUBLIC KEY-----\n"
)
BASE = "https://kizuna.test"
LINK = 'rel="nofollow noopener noreferrer" target="_blank"'

ALICE = LocalActor(
    id=f"{BASE}/users/alice",
    type="Person",
    username="alice",
    name="Alice 🌸",
    summary_html="<p>東京に住んでいます。</p>",
    url=f"{BASE}/@alice",
    inbox=f"{BASE}/users/alice/inbox",
    outbox=f"{BASE}/users/alice/outbox",
    followers=f"{BASE}/users/alice/followers",
    following=f"{BASE}/users/alice/following",
    featured=f"{BASE}/users/alice/collections/featured",
    featured_tags=f"{BASE}/users/alice/collections/tags",
    shared_inbox=f"{BASE}/inbox",
    public_key_pem=PEM,
    manually_approves_followers=False,
    discoverable=True,
    published=datetime(2023, 4, 1, 9, 30, 15, 250000, tzinfo=UTC),
    icon=Image(url=f"{BASE}/media/avatars/alice.png", media_type="image/png"),
    image=Image(url=f"{BASE}/media/headers/alice.jpg", media_type="image/jpeg"),
    fields=(
        ProfileField(
            name="Website",
            value_html=f'<a href="https://alice.example" {LINK}>alice.example</a>',
        ),
        ProfileField(name="Pronouns", value_html="she/her"),
    ),
)

INSTANCE = LocalActor(
    id=f"{BASE}/actor",
    type="Application",
    username="kizuna.test",
    name="",
    summary_html="",
    url=f"{BASE}/about",
    inbox=f"{BASE}/actor/inbox",
    outbox=f"{BASE}/actor/outbox",
    followers=f"{BASE}/actor/followers",
    following=f"{BASE}/actor/following",
    featured=None,
    featured_tags=None,
    shared_inbox=f"{BASE}/inbox",
    public_key_pem=PEM,
    manually_approves_followers=True,
    discoverable=False,
    published=datetime(2023, 1, 1, tzinfo=UTC),
)


# --- actor_json --------------------------------------------------------------------------------


def test_actor_json__person_golden() -> None:
    assert_golden("actor_person.json", actor_json(ALICE))


def test_actor_json__application_golden() -> None:
    assert_golden("actor_application.json", actor_json(INSTANCE))


def test_actor_json__has_every_mastodon_key() -> None:
    mastodon = peer_payload("mastodon-actor.json")

    ours = actor_json(ALICE)

    assert set(mastodon) <= set(ours)
    assert set(mastodon["publicKey"]) == set(ours["publicKey"])
    assert set(mastodon["endpoints"]) == set(ours["endpoints"])
    assert set(mastodon["icon"]) == set(ours["icon"])
    assert set(mastodon["attachment"][0]) == set(ours["attachment"][0])


def test_actor_json__context_extends_mastodon_context() -> None:
    mastodon = peer_payload("mastodon-actor.json")["@context"]

    ours = actor_json(ALICE)["@context"]

    # Same named contexts; the payload's (trimmed) extension object is a subset of ours,
    # which also defines the Hashtag and sensitive terms Mastodon adds for tags.
    assert (
        ours[:2]
        == mastodon[:2]
        == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    )
    assert ours[2].items() >= mastodon[2].items()
    assert set(ours[2]) - set(mastodon[2]) == {"Hashtag", "sensitive"}
    assert ours[2]["schema"] == "http://schema.org#"
    assert ours == ACTOR_CONTEXT


def test_actor_json__key_and_endpoints() -> None:
    doc = actor_json(ALICE)

    assert doc["publicKey"] == {
        "id": f"{BASE}/users/alice#main-key",
        "owner": f"{BASE}/users/alice",
        "publicKeyPem": PEM,
    }
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["published"] == "2023-04-01T09:30:15Z"
    assert doc["tag"] == []
    assert doc["attachment"][1] == {"type": "PropertyValue", "name": "Pronouns", "value": "she/her"}


def test_actor_json__optional_fields_omitted_when_none() -> None:
    doc = actor_json(INSTANCE)

    for key in ("icon", "image", "featured", "featuredTags"):
        assert key not in doc, key
    assert doc["attachment"] == []
    assert doc["type"] == "Application"
    assert doc["preferredUsername"] == "kizuna.test"


def test_actor_json__fresh_context_per_document() -> None:
    first = actor_json(ALICE)
    first["@context"][2]["schema"] = "https://schema.org#"

    assert actor_json(ALICE)["@context"][2]["schema"] == "http://schema.org#"


def test_actor_json__naive_published_raises() -> None:
    naive = dataclasses.replace(ALICE, published=datetime(2023, 4, 1))  # naive on purpose

    with pytest.raises(ValueError, match="naive"):
        actor_json(naive)


def test_local_actor__unknown_type_raises() -> None:
    with pytest.raises(ValueError, match="not an actor type"):
        dataclasses.replace(ALICE, type="Note")


def test_parse_actor__round_trips_our_actor() -> None:
    parsed = parse_actor(actor_json(ALICE))

    assert parsed.id == ALICE.id
    assert parsed.preferred_username == "alice"
    assert parsed.name == "Alice 🌸"
    assert parsed.summary_html == ALICE.summary_html
    assert parsed.public_key_pem == PEM
    assert parsed.shared_inbox == ALICE.shared_inbox
    assert parsed.icon_url == f"{BASE}/media/avatars/alice.png"
    assert parsed.fields == ALICE.fields
    assert parsed.published == "2023-04-01T09:30:15Z"


# --- parse_actor: real payloads ----------------------------------------------------------------


def test_parse_actor__mastodon_person() -> None:
    doc = peer_payload("mastodon-actor.json")

    actor = parse_actor(doc)

    assert actor.id == "https://mastodon.example/users/alice"
    assert actor.type == "Person"
    assert actor.preferred_username == "alice"
    assert actor.name == "Alice"
    assert actor.summary_html == "<p>Hello from the fediverse.</p>"
    assert actor.url == "https://mastodon.example/@alice"
    assert actor.inbox == "https://mastodon.example/users/alice/inbox"
    assert actor.outbox == "https://mastodon.example/users/alice/outbox"
    assert actor.followers == "https://mastodon.example/users/alice/followers"
    assert actor.following == "https://mastodon.example/users/alice/following"
    assert actor.featured == "https://mastodon.example/users/alice/collections/featured"
    assert actor.shared_inbox == "https://mastodon.example/inbox"
    assert actor.public_key_id == "https://mastodon.example/users/alice#main-key"
    assert actor.public_key_owner == "https://mastodon.example/users/alice"
    assert actor.public_key_pem is not None
    assert actor.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert actor.manually_approves_followers is False
    assert actor.discoverable is True
    assert actor.published == "2023-04-01T00:00:00Z"
    assert actor.icon_url == "https://files.mastodon.example/accounts/avatars/alice.png"
    assert actor.image_url == "https://files.mastodon.example/accounts/headers/alice.jpg"
    assert actor.raw is doc


def test_parse_actor__mastodon_field_value_sanitized() -> None:
    actor = parse_actor(peer_payload("mastodon-actor.json"))

    assert actor.fields == (
        ProfileField(
            name="Website",
            value_html=(
                f'<a href="https://alice.example" {LINK}><span class="invisible">https://</span>'
                '<span>alice.example</span><span class="invisible"></span></a>'
            ),
        ),
    )


def test_parse_actor__lemmy_group() -> None:
    actor = parse_actor(peer_payload("lemmy-group.json"))

    assert actor.type == "Group"
    assert actor.preferred_username == "kizuna"
    assert actor.name == "Kizuna Users"
    assert actor.summary_html == "<p>Discussion about the Kizuna server.</p>\n"
    assert actor.url is None
    assert actor.inbox == "https://lemmy.example/c/kizuna/inbox"
    assert actor.following is None
    assert actor.featured == "https://lemmy.example/c/kizuna/featured"
    assert actor.shared_inbox == "https://lemmy.example/inbox"
    assert actor.public_key_id == "https://lemmy.example/c/kizuna#main-key"
    assert actor.icon_url == "https://lemmy.example/pictrs/image/icon.webp"
    assert actor.image_url == "https://lemmy.example/pictrs/image/banner.jpg"
    assert actor.fields == ()
    assert actor.manually_approves_followers is False
    assert actor.published == "2024-01-15T10:00:00.000000Z"


@pytest.mark.parametrize(("value", "suspended"), [(True, True), ("true", False), (None, False)])
def test_parse_actor__suspended_only_when_true(value: Any, suspended: bool) -> None:
    doc = {**peer_payload("mastodon-actor.json"), "suspended": value}

    assert parse_actor(doc).suspended is suspended


def test_parse_actor__does_not_mutate_input() -> None:
    doc = peer_payload("mastodon-actor.json")
    before = copy.deepcopy(doc)

    parse_actor(doc)

    assert doc == before


def test_parse_actor__raw_not_in_repr_or_equality() -> None:
    doc = peer_payload("mastodon-actor.json")
    other = {**doc, "unknownExtension": True}

    assert parse_actor(doc) == parse_actor(other)
    assert "raw=" not in repr(parse_actor(doc))


# --- parse_actor: variants ---------------------------------------------------------------------


def _mastodon(**changes: Any) -> dict[str, Any]:
    doc = peer_payload("mastodon-actor.json")
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


AVATAR = "https://files.test/a.png"


@pytest.mark.parametrize(
    "icon",
    [
        pytest.param({"type": "Image", "url": AVATAR}, id="object"),
        pytest.param(
            [{"type": "Image", "url": AVATAR}, {"type": "Image", "url": "https://x/2"}],
            id="list_of_objects",
        ),
        pytest.param({"type": "Image", "url": {"type": "Link", "href": AVATAR}}, id="url_link"),
        pytest.param(
            {"type": "Image", "url": [{"type": "Link", "href": AVATAR}]}, id="url_list_of_links"
        ),
        pytest.param({"type": "Image", "url": [AVATAR]}, id="url_list_of_strings"),
        pytest.param(AVATAR, id="bare_string"),
    ],
)
def test_parse_actor__icon_variants(icon: Any) -> None:
    assert parse_actor(_mastodon(icon=icon)).icon_url == AVATAR


@pytest.mark.parametrize(
    "icon",
    [
        pytest.param({"type": "Image", "url": "javascript:alert(1)"}, id="javascript_url"),
        pytest.param({"type": "Image"}, id="no_url"),
        pytest.param([], id="empty_list"),
        pytest.param(None, id="absent"),
    ],
)
def test_parse_actor__unusable_icon_is_none(icon: Any) -> None:
    assert parse_actor(_mastodon(icon=icon)).icon_url is None


PROFILE = "https://mastodon.example/@alice"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(PROFILE, PROFILE, id="string"),
        pytest.param({"type": "Link", "href": PROFILE}, PROFILE, id="link"),
        pytest.param(
            [
                {"type": "Link", "mediaType": "application/activity+json", "href": "https://x/1"},
                {"type": "Link", "mediaType": "text/html", "href": PROFILE},
            ],
            PROFILE,
            id="list_prefers_html",
        ),
        pytest.param([PROFILE, "https://x/2"], PROFILE, id="list_of_strings"),
        pytest.param("javascript:alert(1)", None, id="javascript"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_actor__url_variants(url: Any, expected: str | None) -> None:
    assert parse_actor(_mastodon(url=url)).url == expected


ACTOR_ID = "https://mastodon.example/users/alice"


def _key(owner: str, suffix: str) -> dict[str, str]:
    return {"id": f"{owner}#{suffix}", "owner": owner, "publicKeyPem": f"PEM-{suffix}"}


def test_parse_actor__key_list_picks_owned_key() -> None:
    keys = [_key("https://other.test/users/x", "other"), _key(ACTOR_ID, "main-key")]

    actor = parse_actor(_mastodon(publicKey=keys))

    assert actor.public_key_id == f"{ACTOR_ID}#main-key"
    assert actor.public_key_pem == "PEM-main-key"


def test_parse_actor__key_list_without_owner_match_takes_first() -> None:
    keys = [_key("https://other.test/users/x", "first"), _key("https://other.test/y", "second")]

    actor = parse_actor(_mastodon(publicKey=keys))

    assert actor.public_key_id == "https://other.test/users/x#first"
    assert actor.public_key_owner == "https://other.test/users/x"


def test_parse_actor__no_key_is_none() -> None:
    actor = parse_actor(_mastodon(publicKey=None))

    assert (actor.public_key_id, actor.public_key_owner, actor.public_key_pem) == (None, None, None)


def test_parse_actor__loose_types_default() -> None:
    actor = parse_actor(
        _mastodon(
            name=None,
            summary=None,
            endpoints="https://mastodon.example/inbox",
            manuallyApprovesFollowers="yes",
            discoverable=None,
            attachment={
                "type": "PropertyValue",
                "name": "A",
                "value": "<b>b</b><script>x</script>",
            },
            outbox={
                "id": "https://mastodon.example/users/alice/outbox",
                "type": "OrderedCollection",
            },
            type=["Person", "Other"],
        )
    )

    assert actor.name is None
    assert actor.summary_html == ""
    assert actor.shared_inbox is None
    assert actor.manually_approves_followers is False
    assert actor.discoverable is False
    assert actor.fields == (ProfileField(name="A", value_html="<b>b</b>"),)
    assert actor.outbox == "https://mastodon.example/users/alice/outbox"
    assert actor.type == "Person"


def test_parse_actor__summary_sanitized() -> None:
    actor = parse_actor(_mastodon(summary='<p onclick="x()">hi<script>alert(1)</script></p>'))

    assert actor.summary_html == "<p>hi</p>"


# --- parse_actor: invalid ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param([], "not a JSON object", id="list"),
        pytest.param("https://a.test/users/x", "not a JSON object", id="string"),
        pytest.param(None, "not a JSON object", id="none"),
        pytest.param(_mastodon(id=None), "'id'", id="no_id"),
        pytest.param(_mastodon(id=""), "'id'", id="empty_id"),
        pytest.param(_mastodon(id="ftp://mastodon.example/alice"), "http", id="id_ftp"),
        pytest.param(_mastodon(id="/users/alice"), "http", id="id_relative"),
        pytest.param(_mastodon(type="Note"), "not an actor type", id="type_note"),
        pytest.param(_mastodon(type=None), "not an actor type", id="no_type"),
        pytest.param(_mastodon(preferredUsername=None), "preferredUsername", id="no_username"),
        pytest.param(_mastodon(preferredUsername=""), "preferredUsername", id="empty_username"),
        pytest.param(_mastodon(preferredUsername=7), "preferredUsername", id="number_username"),
        pytest.param(_mastodon(inbox=None), "no inbox", id="no_inbox"),
        pytest.param(_mastodon(inbox="mailto:alice@a.test"), "inbox is not", id="inbox_mailto"),
        pytest.param(_mastodon(inbox="/inbox"), "inbox is not", id="inbox_relative"),
    ],
)
def test_parse_actor__invalid_raises(doc: Any, message: str) -> None:
    with pytest.raises(InvalidActivityError, match=message):
        parse_actor(doc)
