"""Unit tests for kizuna.services.media: magic-byte typing, size cap, files on disk (the
decoding itself: test_media_images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.errors import UploadTooLargeError, ValidationError
from kizuna.services.media import AVATAR, HEADER, MediaStore, image_extension
from tests.fakes import images

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
GIF87 = b"GIF87a\x01\x00\x01\x00"
GIF89 = b"GIF89a\x01\x00\x01\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "


def files_under(root: Path) -> list[str]:
    """Every file below root, relative and sorted (a leftover `.part` would show up here)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PNG, "png"), (JPEG, "jpg"), (GIF87, "gif"), (GIF89, "gif"), (WEBP, "webp")],
)
def test_image_extension__known_magic_bytes(data: bytes, expected: str) -> None:
    assert image_extension(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"\x89PNG",  # truncated signature
        b"GIF88a",
    ],
)
def test_image_extension__non_images_rejected(data: bytes) -> None:
    with pytest.raises(ValidationError):
        image_extension(data)


def test_media_store_check__over_limit_raises_too_large(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=100)

    with pytest.raises(UploadTooLargeError):
        store.check(b"x" * 101)


def test_media_store_check__at_limit_is_typed(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=100)

    assert store.check(PNG + b"\x00" * (100 - len(PNG))) == "png"


def test_media_store_check__empty_is_validation_error_not_too_large(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=100)

    with pytest.raises(ValidationError) as info:
        store.check(b"")

    assert not isinstance(info.value, UploadTooLargeError)


async def test_media_store_save__writes_file_with_extension(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=1000)

    relative = await store.save("avatars", "alice", images.GIF, AVATAR, field="avatar")

    assert relative.startswith("avatars/alice-")
    assert relative.endswith(".gif")
    assert images.pixels((tmp_path / relative).read_bytes()) == images.pixels(images.GIF)
    assert files_under(tmp_path) == [relative]  # in the folder, and no .part left behind


async def test_media_store_save__two_saves_get_distinct_names(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=1000)

    first = await store.save("avatars", "alice", images.png(), AVATAR, field="avatar")
    second = await store.save("avatars", "alice", images.png(), AVATAR, field="avatar")

    assert first != second
    assert files_under(tmp_path) == sorted([first, second])


async def test_media_store_save__rejected_data_writes_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=1000)

    with pytest.raises(ValidationError):
        await store.save("avatars", "alice", b"<svg/>", AVATAR, field="avatar")

    assert files_under(tmp_path) == []


async def test_media_store_remove__deletes_file(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=1000)
    relative = await store.save("headers", "bob", images.JPEG, HEADER, field="header")

    await store.remove(relative)

    assert files_under(tmp_path) == []


async def test_media_store_remove__none_and_missing_are_tolerated(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=1000)
    kept = await store.save("avatars", "carol", images.png(), AVATAR, field="avatar")

    await store.remove(None)
    await store.remove("")
    await store.remove("avatars/never-existed.png")

    assert files_under(tmp_path) == [kept]
