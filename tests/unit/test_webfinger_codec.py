"""Unit tests for kizuna.webfinger.codec: handles, resources, JRD, host-meta (pure, no I/O)."""

from __future__ import annotations

import copy
from typing import Any
from xml.etree import ElementTree

import pytest

from kizuna.activitypub.actors import Image
from kizuna.activitypub.errors import InvalidActivityError, ProtocolError
from kizuna.errors import NotFoundError
from kizuna.webfinger.codec import (
    ForeignResourceError,
    MalformedResourceError,
    WebFingerResult,
    host_meta_json,
    host_meta_xml,
    jrd_json,
    parse_handle,
    parse_jrd,
    parse_resource,
)
from tests.unit.datafiles import assert_golden, peer_payload

DOMAIN = "kizuna.test"
BASE = "https://kizuna.test"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def alice_jrd(avatar: Image | None = None) -> dict[str, Any]:
    return jrd_json(
        subject=f"acct:alice@{DOMAIN}",
        aliases=[f"{BASE}/@alice", f"{BASE}/users/alice"],
        profile_url=f"{BASE}/@alice",
        actor_url=f"{BASE}/users/alice",
        subscribe_template=f"{BASE}/authorize_interaction?uri={{uri}}",
        avatar=avatar,
    )


# --- parse_handle ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("@alice@kizuna.test", ("alice", "kizuna.test"), id="at_user_at_host"),
        pytest.param("alice@kizuna.test", ("alice", "kizuna.test"), id="user_at_host"),
        pytest.param("acct:alice@kizuna.test", ("alice", "kizuna.test"), id="acct"),
        pytest.param("acct:@alice@kizuna.test", ("alice", "kizuna.test"), id="acct_at"),
        pytest.param("ACCT:alice@kizuna.test", ("alice", "kizuna.test"), id="acct_uppercase"),
        pytest.param("  @Alice@Kizuna.TEST \n", ("Alice", "kizuna.test"), id="case_and_space"),
        pytest.param("bob.smith_2@sub-1.b.test", ("bob.smith_2", "sub-1.b.test"), id="punct"),
        pytest.param("alice@localhost", ("alice", "localhost"), id="single_label_host"),
        pytest.param("たろう@例え.テスト", ("たろう", "例え.テスト"), id="unicode"),
    ],
)
def test_parse_handle__accepted_forms(text: str, expected: tuple[str, str]) -> None:
    assert parse_handle(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("alice", id="no_host"),
        pytest.param("@alice", id="at_no_host"),
        pytest.param("alice@", id="empty_host"),
        pytest.param("@kizuna.test", id="empty_user"),
        pytest.param("acct:", id="acct_only"),
        pytest.param("a@b@c.test", id="three_parts"),
        pytest.param("@@alice@kizuna.test", id="double_leading_at"),
        pytest.param("alice@@kizuna.test", id="double_at"),
        pytest.param("al ice@kizuna.test", id="space_in_user"),
        pytest.param("alice@kizuna .test", id="space_in_host"),
        pytest.param("alice@kizuna.test:8080", id="port"),
        pytest.param("alice@kizuna.test/path", id="slash_in_host"),
        pytest.param("alice@kizuna..test", id="empty_label"),
        pytest.param("alice@kizuna.test.", id="trailing_dot"),
        pytest.param("alice@-kizuna.test", id="leading_hyphen"),
        pytest.param("alice@kizu_na.test", id="underscore_in_host"),
        pytest.param("https://kizuna.test/@alice", id="url"),
        pytest.param("mailto:alice@kizuna.test", id="mailto"),
        pytest.param("ali/ce@kizuna.test", id="slash_in_user"),
        pytest.param("alice@" + "a" * 254, id="host_too_long"),
    ],
)
def test_parse_handle__malformed_raises(text: str) -> None:
    with pytest.raises(MalformedResourceError):
        parse_handle(text)


def test_resource_errors__in_the_error_tree_and_builtin_kinds() -> None:
    assert issubclass(MalformedResourceError, ProtocolError)
    assert issubclass(MalformedResourceError, ValueError)
    assert issubclass(ForeignResourceError, NotFoundError)
    assert issubclass(ForeignResourceError, LookupError)


# --- parse_resource ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param("acct:alice@kizuna.test", "alice", id="acct"),
        pytest.param("acct:Alice@KIZUNA.test", "Alice", id="acct_case_kept_for_user"),
        pytest.param("acct:@alice@kizuna.test", "alice", id="acct_leading_at"),
        pytest.param("alice@kizuna.test", "alice", id="bare_handle"),
        pytest.param("https://kizuna.test/users/alice", "alice", id="actor_url"),
        pytest.param("https://kizuna.test/@alice", "alice", id="profile_url"),
        pytest.param("https://KIZUNA.test/@alice", "alice", id="url_host_case"),
        pytest.param("http://kizuna.test/users/alice", "alice", id="other_scheme_same_host"),
        pytest.param("https://kizuna.test/actor", "kizuna.test", id="instance_actor_url"),
        pytest.param("acct:kizuna.test@kizuna.test", "kizuna.test", id="instance_actor_acct"),
    ],
)
def test_parse_resource__local(resource: str, expected: str) -> None:
    assert parse_resource(resource, local_domain=DOMAIN, base_url=BASE) == expected


def test_parse_resource__base_url_with_trailing_slash() -> None:
    assert parse_resource(f"{BASE}/@alice", local_domain=DOMAIN, base_url=f"{BASE}/") == "alice"


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param("acct:alice@other.test", id="other_domain"),
        pytest.param("acct:alice@sub.kizuna.test", id="subdomain"),
        pytest.param("https://other.test/users/alice", id="other_host_url"),
        pytest.param("https://kizuna.test:8443/users/alice", id="other_port"),
        pytest.param("https://evil@kizuna.test/users/alice", id="userinfo"),
        pytest.param("https://kizuna.test/users/alice/outbox", id="deeper_path"),
        pytest.param("https://kizuna.test/users/", id="empty_name"),
        pytest.param("https://kizuna.test/about", id="other_path"),
        pytest.param("https://kizuna.test/users/alice?x=1", id="query"),
        pytest.param("https://kizuna.test/@alice#main", id="fragment"),
        pytest.param("https://kizuna.test", id="root"),
    ],
)
def test_parse_resource__foreign_raises(resource: str) -> None:
    with pytest.raises(ForeignResourceError):
        parse_resource(resource, local_domain=DOMAIN, base_url=BASE)


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param("", id="empty"),
        pytest.param("alice", id="bare_name"),
        pytest.param("acct:alice", id="acct_without_host"),
        pytest.param("acct:a@b@kizuna.test", id="three_parts"),
        pytest.param("acct:alice@kizuna.test:443", id="port"),
        pytest.param("mailto:alice@kizuna.test", id="mailto"),
        pytest.param("https:///users/alice", id="url_without_host"),
        pytest.param("https://[::1/users/alice", id="broken_ipv6"),
    ],
)
def test_parse_resource__malformed_raises(resource: str) -> None:
    with pytest.raises(MalformedResourceError):
        parse_resource(resource, local_domain=DOMAIN, base_url=BASE)


# --- jrd_json ----------------------------------------------------------------------------------


def test_jrd_json__alice_golden() -> None:
    assert_golden("webfinger_alice.json", alice_jrd())


def test_jrd_json__same_rels_and_types_as_mastodon() -> None:
    mastodon = peer_payload("webfinger-jrd.json")

    ours = alice_jrd()

    assert set(ours) == set(mastodon)
    assert [(link["rel"], link.get("type")) for link in ours["links"]] == [
        (link["rel"], link.get("type")) for link in mastodon["links"]
    ]
    assert [set(link) for link in ours["links"]] == [set(link) for link in mastodon["links"]]


def test_jrd_json__avatar_link_last() -> None:
    avatar = Image(url=f"{BASE}/media/avatars/alice.png", media_type="image/png")

    links = alice_jrd(avatar)["links"]

    assert links[-1] == {
        "rel": "http://webfinger.net/rel/avatar",
        "type": "image/png",
        "href": f"{BASE}/media/avatars/alice.png",
    }
    assert len(links) == 4


def test_jrd_json__instance_actor_has_profile_and_self_only() -> None:
    jrd = jrd_json(
        subject=f"acct:{DOMAIN}@{DOMAIN}",
        aliases=[f"{BASE}/actor"],
        profile_url=f"{BASE}/about",
        actor_url=f"{BASE}/actor",
        subscribe_template=None,
    )

    assert [link["rel"] for link in jrd["links"]] == [
        "http://webfinger.net/rel/profile-page",
        "self",
    ]
    assert jrd["aliases"] == [f"{BASE}/actor"]


def test_jrd_json__aliases_copied() -> None:
    aliases = (f"{BASE}/@alice",)

    jrd = jrd_json(
        subject="acct:alice@kizuna.test",
        aliases=aliases,
        profile_url=f"{BASE}/@alice",
        actor_url=f"{BASE}/users/alice",
        subscribe_template=None,
    )

    assert jrd["aliases"] == [f"{BASE}/@alice"]


# --- parse_jrd ---------------------------------------------------------------------------------


def test_parse_jrd__mastodon_payload() -> None:
    doc = peer_payload("webfinger-jrd.json")
    before = copy.deepcopy(doc)

    result = parse_jrd(doc)

    assert result == WebFingerResult(
        subject="acct:alice@mastodon.example",
        aliases=("https://mastodon.example/@alice", "https://mastodon.example/users/alice"),
        actor_url="https://mastodon.example/users/alice",
    )
    assert doc == before


def test_parse_jrd__round_trips_ours() -> None:
    assert parse_jrd(alice_jrd()).actor_url == f"{BASE}/users/alice"


def test_parse_jrd__ld_json_self_link() -> None:
    doc = {
        "subject": "acct:bob@b.test",
        "links": [
            {"rel": "self", "type": "text/html", "href": "https://b.test/@bob"},
            {"rel": "self", "type": LD_JSON_AS, "href": "https://b.test/users/bob"},
        ],
    }

    result = parse_jrd(doc)

    assert result.actor_url == "https://b.test/users/bob"
    assert result.aliases == ()


def test_parse_jrd__skips_non_string_aliases() -> None:
    doc = peer_payload("webfinger-jrd.json")
    doc["aliases"] = ["https://mastodon.example/@alice", 5, None]

    assert parse_jrd(doc).aliases == ("https://mastodon.example/@alice",)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param([], "not a JSON object", id="list"),
        pytest.param(None, "not a JSON object", id="none"),
        pytest.param({"links": []}, "no subject", id="no_subject"),
        pytest.param({"subject": 5, "links": []}, "no subject", id="subject_not_string"),
        pytest.param({"subject": "acct:a@b.test"}, "no ActivityPub self link", id="no_links"),
        pytest.param(
            {
                "subject": "acct:a@b.test",
                "links": [{"rel": "self", "type": "text/html", "href": "https://b.test/@a"}],
            },
            "no ActivityPub self link",
            id="html_self_only",
        ),
        pytest.param(
            {
                "subject": "acct:a@b.test",
                "links": [
                    {"rel": "self", "type": "application/ld+json", "href": "https://b.test/a"}
                ],
            },
            "no ActivityPub self link",
            id="ld_json_without_profile",
        ),
        pytest.param(
            {
                "subject": "acct:a@b.test",
                "links": [
                    {
                        "rel": "self",
                        "type": "application/activity+json",
                        "href": "javascript:alert(1)",
                    }
                ],
            },
            "no ActivityPub self link",
            id="non_http_href",
        ),
        pytest.param(
            {"subject": "acct:a@b.test", "links": "https://b.test/a"},
            "no ActivityPub self link",
            id="links_not_list",
        ),
    ],
)
def test_parse_jrd__invalid_raises(doc: Any, message: str) -> None:
    with pytest.raises(InvalidActivityError, match=message):
        parse_jrd(doc)


# --- host-meta ---------------------------------------------------------------------------------

XRD_NS = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"


def test_host_meta_xml__lrdd_template() -> None:
    xml = host_meta_xml(BASE)

    root = ElementTree.fromstring(xml)
    (link,) = root.findall(f"{XRD_NS}Link")
    assert root.tag == f"{XRD_NS}XRD"
    assert link.attrib == {
        "rel": "lrdd",
        "template": f"{BASE}/.well-known/webfinger?resource={{uri}}",
    }
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')


def test_host_meta_xml__escapes_template() -> None:
    base = 'https://kizuna.test/x?a=1&b="<2>"'

    xml = host_meta_xml(base)

    (link,) = ElementTree.fromstring(xml).findall(f"{XRD_NS}Link")
    assert link.attrib["template"] == f"{base}/.well-known/webfinger?resource={{uri}}"
    assert "&amp;" in xml
    assert "<2>" not in xml


def test_host_meta_json__lrdd_template() -> None:
    assert host_meta_json(f"{BASE}/") == {
        "links": [{"rel": "lrdd", "template": f"{BASE}/.well-known/webfinger?resource={{uri}}"}]
    }
