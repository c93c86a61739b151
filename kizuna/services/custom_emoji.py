"""Custom emoji: ours (uploaded by admins) and other servers' (cached from their posts and
reactions).

Ours: a shortcode `[A-Za-z0-9_]{2,64}` (unique whatever the letter case), a PNG, GIF or
WebP image of at most 256 KiB (no JPEG: emoji need transparency), decoded and re-encoded
(kizuna.services.images: pixel cap, no metadata, at most 256 pixels a side, GIF and WebP
animation kept) and stored under `media/emoji/`. A `local_only` one is drawn here but never
named to other servers (no `Emoji` tag, no `/emoji/{shortcode}` document): elsewhere it
reads as `:shortcode:`.

Other servers': keyed by (shortcode, the author's domain); the image is fetched once (again
only when its URL changes) through the FederationClient (public addresses only, https only
unless `allow_private_addresses`, timeouts, redirect limit), capped at 256 KiB and kept only
when it decodes as PNG, GIF, WebP or JPEG within the pixel cap, re-encoded as ours are, at
`media/emoji/<domain>/<shortcode>.<ext>`.
The icon may live on any host: Mastodon serves emoji from its media host or CDN and Misskey
from object storage, so "same host as the actor" would refuse most real ones. What keeps
this safe is the SSRF guard and the caps, and that the shortcode is scoped by the author's
domain, so no server can change another's emoji.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from kizuna.activitypub.context import AS_CONTEXT
from kizuna.activitypub.emoji import (
    LOCAL_SHORTCODE_RE,
    REMOTE_SHORTCODE_RE,
    find_shortcodes,
)
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.ids import media_path
from kizuna.activitypub.reactions import EmojiTag, emoji_tag_json
from kizuna.activitypub.text import extract_shortcodes
from kizuna.activitypub.vocab import JsonObject
from kizuna.actors.documents import emoji_tag
from kizuna.config import Config
from kizuna.errors import NotFoundError, UploadTooLargeError, ValidationError
from kizuna.federation.addresses import is_ip_literal, is_public_address
from kizuna.federation.client import FederationClient
from kizuna.federation.errors import NotAnImageError, UnsafeAddressError
from kizuna.services.images import ImageRules
from kizuna.services.media import MediaStore, over_limit
from kizuna.storage import emoji as storage
from kizuna.storage.engine import Database, Session
from kizuna.storage.models import CustomEmoji

__all__ = [
    "EMOJI_CONTEXT",
    "LOCAL_KINDS",
    "MAX_EMOJI_BYTES",
    "CustomEmojiService",
    "check_icon_url",
    "image_src",
]

logger = logging.getLogger(__name__)

MAX_EMOJI_BYTES: Final = 256 * 1024
MAX_CATEGORY_CHARS: Final = 64
# Taken by pages under /emoji/ (the reaction picker's GET /emoji/search): an emoji with such
# a name would have an id that does not serve its Emoji document.
RESERVED_SHORTCODES: Final = frozenset({"search"})
MAX_URL_CHARS: Final = 2048
LOCAL_KINDS: Final = frozenset({"png", "gif", "webp"})
REMOTE_KINDS: Final = frozenset({"png", "gif", "webp", "jpg"})
# Drawn 1.4em high (up to 4em wide); 256 pixels keeps them sharp on dense screens. Lossless:
# emoji are small drawings, where lossy WebP's artefacts show.
EMOJI_IMAGE: Final = ImageRules(max_side=256, animated=True, lossless=True)
IMAGE_ACCEPT: Final = "image/png, image/gif, image/webp, image/jpeg;q=0.8"
SNAPSHOT_SECONDS: Final = 60.0  # how stale the in-memory list of ours (for names) may get
EMOJI_CONTEXT: Final[list[object]] = [
    AS_CONTEXT,
    {"toot": "http://joinmastodon.org/ns#", "Emoji": "toot:Emoji"},
]
_UNSAFE_PATH_CHARS: Final = re.compile(r"[^a-z0-9.\-]")


def image_src(emoji: CustomEmoji) -> str | None:
    """Where our pages load the image from (None: not cached)."""
    return media_path(emoji.image_path) if emoji.image_path else None


def check_icon_url(url: str, *, allow_private: bool) -> str:
    """An emoji icon URL we may fetch (without its fragment), or UnsafeAddressError: https
    only (plain http only with `allow_private`, for labs and tests), no credentials, no
    loopback/private address literal nor `localhost` unless `allow_private`. Host names
    that resolve to private addresses are refused again at connect time (PublicOnlyResolver)."""
    if len(url) > MAX_URL_CHARS:
        raise UnsafeAddressError("emoji icon URL too long", url=url[:200])
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  # raises ValueError on a bad port
    except ValueError:
        raise UnsafeAddressError(f"not a URL: {url[:200]}", url=url[:200]) from None
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeAddressError(f"not an http(s) URL: {url[:200]}", url=url[:200])
    if parts.scheme == "http" and not allow_private:
        raise UnsafeAddressError(f"emoji images must be https: {url[:200]}", url=url[:200])
    if parts.username is not None or parts.password is not None:
        raise UnsafeAddressError("emoji icon URL with credentials", url=url[:200])
    if not allow_private:
        if is_ip_literal(host) and not is_public_address(host.strip("[]")):
            raise UnsafeAddressError(f"refusing the private or local address {host}", url=url)
        if host == "localhost" or host.endswith(".localhost"):
            raise UnsafeAddressError(f"refusing the local host {host}", url=url)
    return urlunsplit(parts._replace(fragment=""))


def _folder_name(domain: str) -> str:
    """A domain as one path segment (a port's colon or odd characters become "_")."""
    name = _UNSAFE_PATH_CHARS.sub("_", domain.lower()).strip(".")
    return name or "_"


def _utcnow() -> datetime:
    # Not services.accounts.utcnow: accounts → posts → this module would import in a circle.
    return datetime.now(UTC)


class CustomEmojiService:
    def __init__(
        self,
        db: Database,
        config: Config,
        media: MediaStore,
        client: FederationClient,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.media = media
        self.client = client
        self.clock = clock
        # Ours, shortcode → image src, for drawing display names (templates are synchronous).
        self._sources: dict[str, str] = {}
        self._loaded_at: float | None = None

    # --- ours (admin) -------------------------------------------------------------------

    async def upload(
        self, shortcode: str, data: bytes, *, category: str = "", local_only: bool = False
    ) -> CustomEmoji:
        shortcode = shortcode.strip().strip(":")
        if not LOCAL_SHORTCODE_RE.fullmatch(shortcode):
            raise ValidationError(
                "a shortcode is 2 to 64 letters (A-Z, a-z), digits or underscores",
                field="shortcode",
            )
        if shortcode.lower() in RESERVED_SHORTCODES:
            raise ValidationError(f":{shortcode}: is reserved on this server", field="shortcode")
        category = " ".join(category.split())
        if len(category) > MAX_CATEGORY_CHARS:
            raise ValidationError(
                f"a category holds at most {MAX_CATEGORY_CHARS} characters", field="category"
            )
        if not data:
            raise ValidationError("choose an image file", field="image")
        if len(data) > MAX_EMOJI_BYTES:
            size, limit = over_limit(len(data), MAX_EMOJI_BYTES)
            raise UploadTooLargeError(
                f"The image is {size}; a custom emoji is at most {limit}.", field="image"
            )
        image = await self.media.clean(data, EMOJI_IMAGE, field="image", allowed=LOCAL_KINDS)
        taken = ValidationError(f":{shortcode}: exists already", field="shortcode")
        async with self.db.begin() as session:
            if await storage.local_shortcode_taken(session, shortcode):
                raise taken
        path = await self.media.store("emoji", shortcode, image)
        try:
            async with self.db.begin() as session:
                emoji = await storage.add_local(
                    session,
                    shortcode=shortcode,
                    image_path=path,
                    category=category,
                    local_only=local_only,
                    now=self.clock(),
                )
                if emoji is None:
                    raise taken
        except Exception:
            await self.media.remove(path)
            raise
        await self.refresh()
        return emoji

    async def delete(self, emoji_id: int) -> None:
        """Delete an emoji (ours or a cached one) and its image. Posts written with it keep
        an `<img>` whose alt text, `:shortcode:`, shows in its place; reactions go with it."""
        async with self.db.begin() as session:
            emoji = await storage.delete(session, emoji_id)
        if emoji is None:
            raise NotFoundError("no such custom emoji")
        await self.media.remove(emoji.image_path)
        await self.refresh()

    async def list_local(self) -> Sequence[CustomEmoji]:
        async with self.db.begin() as session:
            return await storage.list_local(session)

    async def search(self, text: str, limit: int = 40) -> Sequence[CustomEmoji]:
        """For the picker: ours, shown in the picker, matching shortcode or category."""
        async with self.db.begin() as session:
            return await storage.search_local(session, text[:64], max(1, min(limit, 200)))

    # --- what other servers see -----------------------------------------------------------

    def tag_for(self, emoji: CustomEmoji) -> EmojiTag:
        return emoji_tag(emoji, self.config.base_url)

    async def document(self, shortcode: str) -> JsonObject:
        """GET /emoji/{shortcode}: the Emoji object (ours, not instance-only)."""
        async with self.db.begin() as session:
            emoji = await storage.get_local(session, shortcode)
        if emoji is None or emoji.local_only or not emoji.image_path:
            raise NotFoundError(f"no custom emoji :{shortcode}: here")
        return {"@context": EMOJI_CONTEXT, **emoji_tag_json(self.tag_for(emoji))}

    # --- other servers' -------------------------------------------------------------------

    async def remote(
        self,
        session: Session,
        shortcode: str,
        domain: str,
        icon_url: str,
        uri: str | None = None,
    ) -> CustomEmoji:
        """Another server's emoji, stored and its image cached (fetched only when the row has
        none yet or the URL changed). Raises (storing nothing) InvalidActivityError for a bad
        shortcode, UnsafeAddressError for a URL we may not fetch, ResponseTooLargeError over
        256 KiB, NotAnImageError when it is not a whole PNG/GIF/WebP/JPEG image within the pixel
        cap, other FetchErrors when the fetch fails."""
        domain = domain.lower()
        if not domain or domain == self.config.domain:
            raise InvalidActivityError(f":{shortcode[:64]}: names no other server")
        if not REMOTE_SHORTCODE_RE.fullmatch(shortcode):
            raise InvalidActivityError(f"not a custom emoji shortcode: {shortcode[:80]!r}")
        url = check_icon_url(icon_url, allow_private=self.config.allow_private_addresses)
        if uri is not None and (len(uri) > MAX_URL_CHARS or not uri.startswith("http")):
            uri = None
        row = await storage.get_remote(session, shortcode, domain)
        if row is not None and row.image_path and row.remote_url == url:
            return row
        await self.client.check_host(domain, media=True)  # the image may sit on a CDN
        fetched = await self.client.get_bytes(
            url, max_bytes=MAX_EMOJI_BYTES, accept=IMAGE_ACCEPT, media=True
        )
        try:
            image = await self.media.clean(
                fetched.body, EMOJI_IMAGE, field="image", allowed=REMOTE_KINDS
            )
        except ValidationError as exc:
            raise NotAnImageError(f":{shortcode}: from {domain}: {exc}", url=url) from None
        # A fixed name per emoji: posts stored with its <img> follow a new image of the same
        # kind; after a change of kind the old file stays for the posts that show it.
        path = f"emoji/{_folder_name(domain)}/{shortcode}.{image.ext}"
        await self.media.put(path, image)
        return await storage.upsert_remote(
            session,
            shortcode=shortcode,
            domain=domain,
            remote_url=url,
            uri=uri,
            image_path=path,
            now=self.clock(),
        )

    # --- drawing ------------------------------------------------------------------------------

    def url_for(self, found: Mapping[str, CustomEmoji]) -> Callable[[str], str | None]:
        """`render_plain`'s `emoji_url` over a `render_map` result."""

        def url(shortcode: str) -> str | None:
            emoji = found.get(shortcode)
            return image_src(emoji) if emoji is not None else None

        return url

    async def render_map(
        self, session: Session, text: str, domain: str = ""
    ) -> dict[str, CustomEmoji]:
        """The emoji (with an image) that `text` names as `:shortcode:`, by shortcode: ours
        (domain "", `text` a post's plain source, read as `render_plain` reads it) or one
        server's (`text` plain or sanitised HTML)."""
        if domain == "":
            codes: Sequence[str] = extract_shortcodes(text)
        else:
            codes = [text[s + 1 : e - 1] for s, e in find_shortcodes(text)]
        found = await storage.get_many(session, codes, domain.lower())
        return {code: e for code, e in found.items() if e.image_path}

    async def refresh(self) -> None:
        """Reload the in-memory list of ours that display names are drawn with."""
        async with self.db.begin() as session:
            rows = await storage.list_local(session)
        self._sources = {e.shortcode: src for e in rows if (src := image_src(e)) is not None}
        self._loaded_at = time.monotonic()

    async def refresh_if_stale(self) -> None:
        """Cheap per request: reloads at most every SNAPSHOT_SECONDS (other processes may
        have uploaded or deleted one)."""
        if self._loaded_at is None or time.monotonic() - self._loaded_at > SNAPSHOT_SECONDS:
            await self.refresh()

    def local_sources(self) -> Mapping[str, str]:
        """Ours, shortcode → image src, as last loaded (for synchronous template filters)."""
        return self._sources
