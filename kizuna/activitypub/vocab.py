"""ActivityStreams vocabulary shared by the codecs: constants, media types, lenient getters.

Pure: standard library only. Remote JSON is loose ("a string, an object or a list of
either"), so `get_id`/`as_list` absorb the variations; `require_str` turns a missing
field into `InvalidActivityError`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from kizuna.activitypub.errors import InvalidActivityError

JsonObject = dict[str, Any]

AS_PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
# Short forms of the public collection seen on input (compacted JSON-LD).
AS_PUBLIC_ALIASES: Final = frozenset({AS_PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON: Final = "application/activity+json"
LD_JSON: Final = "application/ld+json"
AS_PROFILE: Final = "https://www.w3.org/ns/activitystreams"
LD_JSON_ACTIVITYSTREAMS: Final = f'{LD_JSON}; profile="{AS_PROFILE}"'
ACTIVITY_MEDIA_TYPES: Final = (ACTIVITY_JSON, LD_JSON_ACTIVITYSTREAMS)


class ActorType(StrEnum):
    """The actor types we accept (and `accounts.actor_type` holds)."""

    PERSON = "Person"
    SERVICE = "Service"
    APPLICATION = "Application"  # a server's own actor: ours at /actor, Mastodon's
    GROUP = "Group"  # a community: ours at /c/SLUG, Lemmy's
    ORGANIZATION = "Organization"


ACTOR_TYPES: Final = frozenset(ActorType)


class Visibility(StrEnum):
    """Who may see a post: Mastodon's four, read from and written as addressing."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"  # followers only
    DIRECT = "direct"  # mentioned accounts only


# Shown to anyone who has the link (outbox, boosts, community pages); unlisted only stays
# off the public timelines.
PUBLIC_VISIBILITIES: Final = (Visibility.PUBLIC, Visibility.UNLISTED)


# ActivityStreams 2.0 activity types, plus the extensions peers send (Pleroma/Akkoma
# EmojiReact, Misskey/FEP ChatMessage-free). Anything else is refused, never processed.
ACTIVITY_TYPES: Final = frozenset(
    {
        "Accept",
        "Add",
        "Announce",
        "Arrive",
        "Block",
        "Create",
        "Delete",
        "Dislike",
        "EmojiReact",
        "Flag",
        "Follow",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Like",
        "Listen",
        "Move",
        "Offer",
        "Question",
        "Read",
        "Reject",
        "Remove",
        "TentativeAccept",
        "TentativeReject",
        "Travel",
        "Undo",
        "Update",
        "View",
    }
)
REACTION_TYPES: Final = frozenset({"Like", "EmojiReact"})  # Misskey Like, Akkoma EmojiReact


def get_id(value: Any) -> str | None:
    """The id of a reference: a string, an object's "id", or the first item of a list."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        ident = value.get("id")
        return ident if isinstance(ident, str) and ident else None
    if isinstance(value, list):
        return get_id(value[0]) if value else None
    return None


def as_list(value: Any) -> list[Any]:
    """None → [], a list → a shallow copy, anything else → [value]."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def require_str(doc: JsonObject, key: str) -> str:
    """`doc[key]` as a non-empty string, else `InvalidActivityError`."""
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidActivityError(f"{key!r} must be a non-empty string")
    return value


def is_http_url(value: Any) -> bool:
    """True for an absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def host_of(url: str | None) -> str:
    """The host of an absolute URL, lower-case, without port, userinfo or IPv6 brackets;
    "" when it has none (None, no `//` authority) or cannot be parsed, so that untrusted
    input (a keyId, an activity id) compares as no host rather than raising. An IDN stays
    as written (not punycode)."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:  # "http://[oops", a netloc that NFKC-normalises into another one
        return ""


def isoformat_z(moment: datetime) -> str:
    """ "2025-06-01T12:00:00Z": UTC, whole seconds, as Mastodon writes `published`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware one")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- media types -----------------------------------------------------------------------------


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_media_type(text: str) -> tuple[str, dict[str, str]]:
    """'Application/LD+JSON; profile="x"' → ("application/ld+json", {"profile": "x"}).

    The type and parameter names are lowercased; quoted values are unquoted.
    """
    head, *params = _split_outside_quotes(text, ";")
    parsed: dict[str, str] = {}
    for param in params:
        name, eq, value = param.partition("=")
        if not eq:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        parsed[name.strip().lower()] = value
    return head.strip().lower(), parsed


def is_activity_media_type(text: str, *, profile_required: bool = True) -> bool:
    """application/activity+json (any parameters), or application/ld+json with the
    ActivityStreams profile (the profile may be one of several, space-separated).
    With `profile_required=False` any application/ld+json counts."""
    media_type, params = parse_media_type(text)
    if media_type == ACTIVITY_JSON:
        return True
    if media_type != LD_JSON:
        return False
    if not profile_required:
        return True
    return AS_PROFILE in params.get("profile", "").split()


def wants_activity_json(accept_header: str) -> bool:
    """True when `Accept` lists activity+json or ld+json (with or without a profile) with
    q > 0. Wildcards (`*/*`, `application/*`) and text/html alone are not enough."""
    for media_range in _split_outside_quotes(accept_header, ","):
        if not media_range.strip():
            continue
        _, params = parse_media_type(media_range)
        if _quality(params.get("q")) <= 0:
            continue
        if is_activity_media_type(media_range, profile_required=False):
            return True
    return False


def _quality(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        quality = float(value)
    except ValueError:
        return 1.0  # malformed q: ignore the parameter, as if absent
    return quality if quality == quality else 1.0  # NaN
