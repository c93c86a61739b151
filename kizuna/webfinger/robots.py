"""The default /robots.txt (pure): crawlers may read public pages, nothing else.

Like Mastodon's public/robots.txt, it keeps crawlers off what is private or machine-only:
administration and settings, the JSON API, live streams, inboxes, search (a crawler
following search links would fetch remote servers on our behalf), and the ActivityPub-only
documents (actor JSON, collections, NodeInfo), which browsers are redirected away from
anyway. Profiles (`/@name`), posts, tags and communities stay crawlable. An admin replaces
the whole text with `KIZUNA_ROBOTS_TXT` (a file path).
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_ROBOTS_TXT", "DISALLOWED"]

DISALLOWED: Final = (
    "/admin",
    "/settings",
    "/api/",
    "/live/",
    "/inbox",
    "/search",
    "/notifications",
    "/follow_requests",
    "/login",
    "/signup",
    "/report",
    "/authorize_interaction",
    "/posts/",  # forms (edit, like, boost); a post's page is /@name/ID
    "/emoji/search",
    # ActivityPub and discovery documents: for servers, not for crawlers.
    "/actor",
    "/users/",
    "/c/*/outbox",
    "/c/*/followers",
    "/c/*/following",
    "/c/*/moderators",
    "/c/*/collections/",
    "/c/*/inbox",
    "/c/*/settings",
    "/c/*/moderation",
    "/nodeinfo/",
)

DEFAULT_ROBOTS_TXT: Final = (
    "# Kizuna's default; an admin replaces it with KIZUNA_ROBOTS_TXT (a file).\n"
    "User-agent: *\n" + "".join(f"Disallow: {path}\n" for path in DISALLOWED)
)
