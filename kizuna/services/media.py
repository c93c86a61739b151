"""Images kept on disk: typed by magic bytes (not the client's word), size-capped, then
decoded and re-encoded by kizuna.services.images (off the event loop) before they are stored."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from kizuna.errors import UploadTooLargeError, ValidationError
from kizuna.services.images import CleanImage, ImageRules, clean_image

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


IMAGE_KINDS = frozenset({"png", "jpg", "gif", "webp"})
# Sizes as Mastodon keeps them (Account::Avatar 400×400, Account::Header at most 750,000
# pixels, i.e. 1500×500); ours are shrunk to fit, never cropped.
AVATAR = ImageRules(max_side=400)
HEADER = ImageRules(max_side=1500, max_area=750_000)
_KIND_NAMES = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WebP"}


def file_size(size: int) -> str:
    """A byte count as people read it: "5.2 MB", "300 KB" (1 MB = 1024 KB, as Mastodon's
    limits say "16MB" for 16 MiB)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{round(size / 1024)} KB"


def over_limit(size: int, limit: int) -> tuple[str, str]:
    """`size` and `limit` as people read them; the size more precisely where rounding would
    make the two look the same ("256 KB; the limit is 256 KB")."""
    shown, most = file_size(size), file_size(limit)
    if shown == most:
        unit, scale = ("MB", 1024 * 1024) if size >= 1024 * 1024 else ("KB", 1024)
        shown = f"{size / scale:.2f}".rstrip("0") + f" {unit}"
        if shown.startswith(most.split()[0] + ". ") or shown == most:
            shown = f"{size:,} bytes"
    return shown, most


def sniff_image(data: bytes) -> str | None:
    """ "png", "jpg", "gif" or "webp" from the magic bytes; None for anything else."""
    for magic, ext in _SIGNATURES:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_extension(
    data: bytes, *, allowed: frozenset[str] = IMAGE_KINDS, field: str = "avatar"
) -> str:
    """The file extension for `data`, which must be one of the `allowed` kinds."""
    ext = sniff_image(data)
    if ext is None or ext not in allowed:
        names = [name for kind, name in _KIND_NAMES.items() if kind in allowed]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise ValidationError(f"the image must be {listed}", field=field)
    return ext


class MediaStore:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def check(self, data: bytes, *, field: str = "avatar") -> str:
        """The kind of an upload within our size cap (cheap: magic bytes, before decoding)."""
        if len(data) > self.max_bytes:
            size, limit = over_limit(len(data), self.max_bytes)
            raise UploadTooLargeError(f"The image is {size}; the limit is {limit}.", field=field)
        if not data:
            raise ValidationError("the uploaded file is empty", field=field)
        return image_extension(data, field=field)

    async def clean(
        self,
        data: bytes,
        rules: ImageRules,
        *,
        field: str,
        allowed: frozenset[str] = IMAGE_KINDS,
    ) -> CleanImage:
        """`data` decoded, checked and re-encoded by `rules` (kizuna.services.images) in a
        worker thread: a large image does not hold up other requests."""
        ext = image_extension(data, allowed=allowed, field=field)
        return await asyncio.to_thread(clean_image, data, ext, rules, field=field)

    async def save(
        self, folder: str, stem: str, data: bytes, rules: ImageRules, *, field: str
    ) -> str:
        """Store an upload, checked and re-encoded; returns its path relative to the root."""
        self.check(data, field=field)
        return await self.store(folder, stem, await self.clean(data, rules, field=field))

    async def store(self, folder: str, stem: str, image: CleanImage) -> str:
        """Store an image the caller has cleaned (`clean`, after its own size cap) under a
        new name; returns the path relative to the media root. Only a CleanImage is ever
        written: no bytes reach the disk without being decoded and re-encoded."""
        relative = f"{folder}/{stem}-{secrets.token_hex(6)}.{image.ext}"
        await self.put(relative, image)
        return relative

    async def put(self, relative: str, image: CleanImage) -> None:
        """Write a cleaned image at a fixed path under the root, replacing what was there
        (atomically: a reader sees the old file or the new one, never half of one)."""
        parts = relative.split("/")
        if relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"{relative!r} is not a path inside the media folder")
        await asyncio.to_thread(self._write, self.root / relative, image.data)

    async def remove(self, relative: str | None) -> None:
        if relative:
            await asyncio.to_thread((self.root / relative).unlink, missing_ok=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
