"""Uploaded images: typed by magic bytes (not the client's word), size-capped, kept on disk."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from kizuna.errors import UploadTooLargeError, ValidationError

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def image_extension(data: bytes) -> str:
    for magic, ext in _SIGNATURES:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ValidationError("the image must be PNG, JPEG, GIF or WebP", field="avatar")


class MediaStore:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def check(self, data: bytes) -> str:
        if len(data) > self.max_bytes:
            raise UploadTooLargeError(
                f"the image is {len(data) // 1024} KiB; the limit is {self.max_bytes // 1024} KiB",
                field="avatar",
            )
        if not data:
            raise ValidationError("the uploaded file is empty", field="avatar")
        return image_extension(data)

    async def save(self, folder: str, stem: str, data: bytes) -> str:
        """Store a checked image; returns its path relative to the media root."""
        ext = self.check(data)
        relative = f"{folder}/{stem}-{secrets.token_hex(6)}.{ext}"
        await asyncio.to_thread(self._write, self.root / relative, data)
        return relative

    async def remove(self, relative: str | None) -> None:
        if relative:
            await asyncio.to_thread((self.root / relative).unlink, missing_ok=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
