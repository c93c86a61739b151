"""WebFinger (RFC 7033) and host-meta (RFC 6415): handles, resources, JRD in and out.

Pure: no I/O. The JRD shape follows Mastodon's app/serializers/webfinger_serializer.rb
(profile-page, self, subscribe template; an avatar link when there is an avatar).

Errors (kizuna.errors' tree): `MalformedResourceError` (a ProtocolError and a ValueError)
for text that is not a handle or URL we can read; `ForeignResourceError` (a NotFoundError and
a LookupError) for a well-formed resource that names another domain or a URL that is not one
of our actors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from kizuna.activitypub.actors import Image
from kizuna.activitypub.errors import InvalidActivityError, ProtocolError
from kizuna.activitypub.ids import webfinger_template
from kizuna.activitypub.vocab import (
    ACTIVITY_JSON,
    JsonObject,
    is_activity_media_type,
    is_http_url,
)
from kizuna.errors import NotFoundError

__all__ = [
    "JRD_CONTENT_TYPE",
    "REL_AVATAR",
    "REL_PROFILE_PAGE",
    "REL_SELF",
    "REL_SUBSCRIBE",
    "XRD_CONTENT_TYPE",
    "ForeignResourceError",
    "MalformedResourceError",
    "WebFingerResult",
    "host_meta_json",
    "host_meta_xml",
    "jrd_json",
    "parse_handle",
    "parse_jrd",
    "parse_resource",
]

JRD_CONTENT_TYPE: Final = "application/jrd+json"
XRD_CONTENT_TYPE: Final = "application/xrd+xml"
REL_PROFILE_PAGE: Final = "http://webfinger.net/rel/profile-page"
REL_SELF: Final = "self"
REL_SUBSCRIBE: Final = "http://ostatus.org/schema/1.0/subscribe"
REL_AVATAR: Final = "http://webfinger.net/rel/avatar"

# Usernames vary by server (Mastodon: [A-Za-z0-9_.-]); accept Unicode word characters and
# a little punctuation, nothing that could be a separator ("@", "/", ":", "?", "#", spaces).
_USER_RE: Final = re.compile(r"[\w.~+-]+")
# A host: dot-separated labels of letters/digits (Unicode, for IDNs) joined by hyphens.
# No port, no path, no trailing dot.
_HOST_RE: Final = re.compile(r"[^\W_]+(?:-+[^\W_]+)*(?:\.[^\W_]+(?:-+[^\W_]+)*)*")
_MAX_HOST_LEN: Final = 253


class MalformedResourceError(ProtocolError, ValueError):
    pass


class ForeignResourceError(NotFoundError, LookupError):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class WebFingerResult:
    subject: str
    aliases: tuple[str, ...]
    actor_url: str


def parse_handle(text: str) -> tuple[str, str]:
    """ "@user@host", "user@host", "acct:user@host", "acct:@user@host" → (user, host).

    The host is lowercased; the user keeps its case (compare it case-insensitively).
    """
    handle = text.strip()
    if handle[:5].lower() == "acct:":
        handle = handle[5:]
    handle = handle.removeprefix("@")
    parts = handle.split("@")
    if len(parts) != 2:
        raise MalformedResourceError(f"not a user@host handle: {text!r}")
    user, host = parts
    if not _USER_RE.fullmatch(user):
        raise MalformedResourceError(f"bad user part in handle: {text!r}")
    if len(host) > _MAX_HOST_LEN or not _HOST_RE.fullmatch(host):
        raise MalformedResourceError(f"bad host part in handle: {text!r}")
    return user, host.lower()


def parse_resource(resource: str, *, local_domain: str, base_url: str) -> str:
    """The local username a WebFinger `resource` asks for.

    Accepts `acct:user@<local_domain>` (and the other `parse_handle` forms),
    `<base_url>/users/NAME`, `<base_url>/@NAME`, and `<base_url>/actor` (the instance actor,
    whose username is the domain, as on Mastodon). The username is returned as written.
    """
    text = resource.strip()
    if text.lower().startswith(("http://", "https://")):
        return _username_from_url(text, local_domain=local_domain, base_url=base_url)
    user, host = parse_handle(text)
    if host != local_domain.lower():
        raise ForeignResourceError(f"not a local account: {resource!r}")
    return user


def _username_from_url(url: str, *, local_domain: str, base_url: str) -> str:
    try:
        parts = urlsplit(url)
        base = urlsplit(base_url.rstrip("/"))
    except ValueError as exc:
        raise MalformedResourceError(f"not a URL: {url!r}") from exc
    if not parts.netloc:
        raise MalformedResourceError(f"URL without a host: {url!r}")
    if parts.netloc.lower() != base.netloc.lower() or parts.query or parts.fragment:
        raise ForeignResourceError(f"not one of our URLs: {url!r}")
    if not parts.path.startswith(f"{base.path}/"):
        raise ForeignResourceError(f"not one of our actor URLs: {url!r}")
    path = parts.path[len(base.path) :]
    if path == "/actor":
        return local_domain
    for prefix in ("/users/", "/@"):
        name = path.removeprefix(prefix)
        if name != path and _USER_RE.fullmatch(name):
            return name
    raise ForeignResourceError(f"not one of our actor URLs: {url!r}")


def jrd_json(
    *,
    subject: str,
    aliases: Sequence[str],
    profile_url: str,
    actor_url: str,
    subscribe_template: str | None,
    avatar: Image | None = None,
) -> JsonObject:
    """The JRD for one of our actors (no subscribe template for the instance actor)."""
    links: list[JsonObject] = [
        {"rel": REL_PROFILE_PAGE, "type": "text/html", "href": profile_url},
        {"rel": REL_SELF, "type": ACTIVITY_JSON, "href": actor_url},
    ]
    if subscribe_template is not None:
        links.append({"rel": REL_SUBSCRIBE, "template": subscribe_template})
    if avatar is not None:
        links.append({"rel": REL_AVATAR, "type": avatar.media_type, "href": avatar.url})
    return {"subject": subject, "aliases": list(aliases), "links": links}


def parse_jrd(doc: object) -> WebFingerResult:
    """A fetched JRD → subject, aliases and the ActivityPub actor URL (the `self` link typed
    application/activity+json or ld+json with the ActivityStreams profile)."""
    if not isinstance(doc, dict):
        raise InvalidActivityError("JRD is not a JSON object")
    subject = doc.get("subject")
    if not isinstance(subject, str) or not subject:
        raise InvalidActivityError("JRD has no subject")
    aliases = doc.get("aliases")
    links = doc.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != REL_SELF:
            continue
        media_type, href = link.get("type"), link.get("href")
        if isinstance(media_type, str) and is_activity_media_type(media_type):
            if isinstance(href, str) and is_http_url(href):
                return WebFingerResult(
                    subject=subject,
                    aliases=tuple(a for a in aliases if isinstance(a, str))
                    if isinstance(aliases, list)
                    else (),
                    actor_url=href,
                )
    raise InvalidActivityError(f"JRD for {subject!r} has no ActivityPub self link")


def host_meta_xml(base_url: str) -> str:
    """host-meta XRD pointing at our WebFinger endpoint (served as application/xrd+xml)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(webfinger_template(base_url))}/>\n'
        "</XRD>\n"
    )


def host_meta_json(base_url: str) -> JsonObject:
    """host-meta.json: the same LRDD link as JSON."""
    return {"links": [{"rel": "lrdd", "template": webfinger_template(base_url)}]}
