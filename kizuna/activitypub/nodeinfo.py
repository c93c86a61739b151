"""NodeInfo 2.0 / 2.1 documents and the `/.well-known/nodeinfo` discovery document.

Schema: https://nodeinfo.diaspora.software/ (2.1 adds software.repository / homepage).
`software.name` must match ^[a-z0-9-]+$ and stay stable: peers pick quirks by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from kizuna.activitypub.ids import nodeinfo_url
from kizuna.activitypub.vocab import JsonObject

__all__ = [
    "NODEINFO_CONTENT_TYPE",
    "NODEINFO_VERSIONS",
    "SOFTWARE_NAME",
    "NodeInfoStats",
    "nodeinfo_content_type",
    "nodeinfo_json",
    "nodeinfo_links_json",
]

SOFTWARE_NAME: Final = "kizuna"
NODEINFO_VERSIONS: Final = ("2.0", "2.1")
_SCHEMA: Final = "http://nodeinfo.diaspora.software/ns/schema/{version}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeInfoStats:
    users_total: int
    active_month: int
    active_halfyear: int
    local_posts: int


def nodeinfo_links_json(base_url: str) -> JsonObject:
    """The discovery document: one link per schema version we serve (2.0 and 2.1)."""
    base = base_url.rstrip("/")
    return {
        "links": [
            {"rel": _SCHEMA.format(version=v), "href": nodeinfo_url(base, v)}
            for v in NODEINFO_VERSIONS
        ]
    }


def nodeinfo_content_type(version: str) -> str:
    """'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'."""
    _check_version(version)
    return f'application/json; profile="{_SCHEMA.format(version=version)}#"'


NODEINFO_CONTENT_TYPE: Final = nodeinfo_content_type  # the name used in the design notes


def nodeinfo_json(
    version: str,
    *,
    software_version: str,
    open_registrations: bool,
    stats: NodeInfoStats,
    node_name: str,
    node_description: str,
    repository: str | None = None,
    homepage: str | None = None,
) -> JsonObject:
    """The NodeInfo document; `repository`/`homepage` appear only in 2.1 and only if given."""
    _check_version(version)
    software: JsonObject = {"name": SOFTWARE_NAME, "version": software_version}
    if version == "2.1":
        if repository is not None:
            software["repository"] = repository
        if homepage is not None:
            software["homepage"] = homepage
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": stats.users_total,
                "activeMonth": stats.active_month,
                "activeHalfyear": stats.active_halfyear,
            },
            "localPosts": stats.local_posts,
        },
        "metadata": {"nodeName": node_name, "nodeDescription": node_description},
    }


def _check_version(version: str) -> None:
    if version not in NODEINFO_VERSIONS:
        raise ValueError(f"unsupported NodeInfo version: {version!r}")


NODEINFO_SCHEMA_PREFIX: Final = "http://nodeinfo.diaspora.software/ns/schema/2."


def nodeinfo_href(links_doc: object) -> str | None:
    """From `/.well-known/nodeinfo`, the newest 2.x document's URL (None when there is none)."""
    links = links_doc.get("links") if isinstance(links_doc, dict) else None
    found: list[tuple[str, str]] = []
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict):
            continue
        rel, href = link.get("rel"), link.get("href")
        if (
            isinstance(rel, str)
            and rel.startswith(NODEINFO_SCHEMA_PREFIX)
            and isinstance(href, str)
        ):
            found.append((rel, href))
    return max(found)[1] if found else None


def software_name(nodeinfo_doc: object) -> str | None:
    """`software.name`, lower-cased and bounded; None when absent or not a string."""
    software = nodeinfo_doc.get("software") if isinstance(nodeinfo_doc, dict) else None
    name = software.get("name") if isinstance(software, dict) else None
    return name.strip().lower()[:64] or None if isinstance(name, str) else None
