"""Unit tests for kizuna.activitypub.nodeinfo (pure, no I/O)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kizuna.activitypub.nodeinfo import (
    NODEINFO_CONTENT_TYPE,
    NodeInfoStats,
    nodeinfo_content_type,
    nodeinfo_json,
    nodeinfo_links_json,
)
from tests.unit.datafiles import assert_golden, peer_payload

STATS = NodeInfoStats(users_total=120, active_month=45, active_halfyear=80, local_posts=5321)


def build(version: str, **extra: Any) -> dict[str, Any]:
    return nodeinfo_json(
        version,
        software_version="0.3.0",
        open_registrations=False,
        stats=STATS,
        node_name="Kizuna Example",
        node_description="A small community server",
        **extra,
    )


def key_paths(doc: Any, prefix: str = "") -> set[str]:
    if not isinstance(doc, dict):
        return set()
    paths: set[str] = set()
    for key, value in doc.items():
        paths.add(prefix + key)
        paths |= key_paths(value, f"{prefix}{key}.")
    return paths


def test_nodeinfo_links_json__lists_both_versions() -> None:
    assert nodeinfo_links_json("https://kizuna.test/") == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": "https://kizuna.test/nodeinfo/2.0",
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://kizuna.test/nodeinfo/2.1",
            },
        ]
    }


def test_nodeinfo_json__2_1_golden() -> None:
    doc = build(
        "2.1",
        repository="https://git.kizuna.example/kizuna/kizuna",
        homepage="https://kizuna.example/",
    )

    assert_golden("nodeinfo_2.1.json", doc)


def test_nodeinfo_json__same_keys_as_reference() -> None:
    reference = peer_payload("nodeinfo-2.1.json")

    doc = build(
        "2.1",
        repository="https://git.kizuna.example/kizuna/kizuna",
        homepage="https://kizuna.example/",
    )

    assert key_paths(doc) == key_paths(reference)
    assert doc == reference


def test_nodeinfo_json__2_1_without_optional_links() -> None:
    assert build("2.1")["software"] == {"name": "kizuna", "version": "0.3.0"}


def test_nodeinfo_json__2_0_never_has_repository() -> None:
    doc = build("2.0", repository="https://git.test/k", homepage="https://k.test/")

    assert doc["version"] == "2.0"
    assert doc["software"] == {"name": "kizuna", "version": "0.3.0"}
    assert doc["protocols"] == ["activitypub"]
    assert doc["services"] == {"inbound": [], "outbound": []}


def test_nodeinfo_json__software_name_matches_schema() -> None:
    assert re.fullmatch(r"[a-z0-9-]+", build("2.1")["software"]["name"])


def test_nodeinfo_json__usage_and_metadata() -> None:
    doc = build("2.0")

    assert doc["usage"] == {
        "users": {"total": 120, "activeMonth": 45, "activeHalfyear": 80},
        "localPosts": 5321,
    }
    assert doc["openRegistrations"] is False
    assert doc["metadata"] == {
        "nodeName": "Kizuna Example",
        "nodeDescription": "A small community server",
    }


@pytest.mark.parametrize("version", ["1.0", "2.2", "", "2"])
def test_nodeinfo_json__unknown_version_raises(version: str) -> None:
    with pytest.raises(ValueError, match="NodeInfo version"):
        build(version)


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_nodeinfo_content_type__profile(version: str) -> None:
    expected = f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'

    assert nodeinfo_content_type(version) == expected
    assert NODEINFO_CONTENT_TYPE(version) == expected


def test_nodeinfo_content_type__unknown_version_raises() -> None:
    with pytest.raises(ValueError, match="NodeInfo version"):
        nodeinfo_content_type("3.0")
