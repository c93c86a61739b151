"""Every image we keep is decoded with a pixel cap and re-encoded (kizuna.services.images):
decompression bombs and broken files refused, location data and polyglot payloads gone,
big pictures shrunk, animation kept only for emoji."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from kizuna.errors import ValidationError
from kizuna.services.custom_emoji import EMOJI_IMAGE
from kizuna.services.images import MAX_FRAMES, ImageRules, clean_image
from kizuna.services.media import AVATAR, HEADER, MediaStore
from tests.fakes import images

BOMB_MESSAGE = r"^the image is 20000×20000 pixels; the limit is 33\.2 megapixels"


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _rgb(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


@pytest.mark.parametrize("rules", [AVATAR, HEADER, EMOJI_IMAGE])
def test_clean_image__decompression_bomb_refused_with_its_size(rules: ImageRules) -> None:
    bomb = images.bomb_png()
    assert len(bomb) < 64 * 1024  # small enough for any upload cap

    with pytest.raises(ValidationError, match=BOMB_MESSAGE) as info:
        clean_image(bomb, "png", rules, field="avatar")

    assert info.value.field == "avatar"


def test_clean_image__over_our_cap_but_under_pillows_refused() -> None:
    # 36 megapixels: Pillow would decode it without a word (its guard starts at ~89).
    with pytest.raises(ValidationError, match=r"^the image is 6000×6000 pixels; the limit"):
        clean_image(images.bomb_png(6000, 6000), "png", AVATAR, field="avatar")


def test_clean_image__under_the_cap_decoded_and_shrunk() -> None:
    clean = clean_image(images.bomb_png(5000, 5000), "png", AVATAR, field="avatar")

    assert (clean.width, clean.height) == (400, 400)
    assert _open(clean.data).size == (400, 400)


def test_clean_image__jpeg_location_data_dropped_and_orientation_applied() -> None:
    # 600x300 as stored, orientation 6: the camera was held upright, so it shows 300x600.
    photo = images.picture("JPEG", (600, 300), exif=images.gps_exif(orientation=6))
    assert _open(photo).getexif().get_ifd(images.GPS_IFD)  # the fixture does carry GPS

    clean = clean_image(photo, "jpg", AVATAR, field="avatar")

    stored = _open(clean.data)
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert stored.getexif().get_ifd(images.GPS_IFD) == {}
    assert "exif" not in stored.info
    assert b"Exif" not in clean.data
    assert b"KizunaCam" not in clean.data
    assert stored.size == (200, 400)  # upright, then fitted into 400x400
    # The dark quarter was top-left as stored; turned clockwise it is top-right.
    assert max(_rgb(stored, 190, 10)) < 60
    assert min(_rgb(stored, 10, 10)) > 50


@pytest.mark.parametrize(
    ("rules", "size", "expected"),
    [
        (AVATAR, (1200, 800), (400, 266)),
        (HEADER, (4000, 1000), (1500, 375)),  # both sides at most 1500 ...
        (HEADER, (2000, 2000), (866, 866)),  # ... and at most 750,000 pixels, as Mastodon
        (HEADER, (1500, 500), (1500, 500)),  # just right: kept as it is
        (EMOJI_IMAGE, (1024, 256), (256, 64)),
        (AVATAR, (64, 48), (64, 48)),  # never enlarged
    ],
)
def test_clean_image__shrunk_to_fit_keeping_its_shape(
    rules: ImageRules, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    clean = clean_image(images.picture("PNG", size), "png", rules, field="avatar")

    assert (clean.width, clean.height) == expected
    assert _open(clean.data).size == expected


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (images.BROKEN_PNG, "png", "the file is not a valid PNG image"),
        (images.png()[:40], "png", "the file is not a valid PNG image"),  # cut short
        (b"GIF89a" + b"\x00" * 20 + b"<html>", "gif", "the file is not a valid GIF image"),
        (b"\xff\xd8\xff\xe0<script>alert(1)</script>", "jpg", "the file is not a valid JPEG"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 <html></html>", "webp", "the file is not a valid WebP"),
    ],
)
def test_clean_image__right_first_bytes_then_no_image_refused(
    data: bytes, kind: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=f"^{message}"):
        clean_image(data, kind, AVATAR, field="header")


def test_clean_image__polyglot_gif_written_as_a_clean_image() -> None:
    polyglot = images.polyglot_gif()
    assert polyglot.count(images.POLYGLOT_SCRIPT) == 2  # in a comment and after the end

    clean = clean_image(polyglot, "gif", AVATAR, field="avatar")

    assert clean.ext == "gif"
    assert b"<script" not in clean.data
    assert b"<html" not in clean.data
    assert clean.data.endswith(b";")  # nothing after the GIF trailer
    assert images.pixels(clean.data) == images.pixels(polyglot)
    assert "comment" not in _open(clean.data).info


def test_clean_image__png_text_chunks_and_icc_profile_not_kept() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "<script>alert(1)</script>")
    text.add_text("XML:com.adobe.xmp", "<x:xmpmeta>GPS 35.65N</x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = images.picture("PNG", (32, 32), pnginfo=text, icc_profile=icc)

    clean = clean_image(data, "png", AVATAR, field="avatar")

    assert _open(clean.data).info == {}
    assert b"<script" not in clean.data
    assert b"xmpmeta" not in clean.data
    assert b"iCCP" not in clean.data
    assert images.pixels(clean.data) == images.pixels(data)


@pytest.mark.parametrize(("kind", "ext"), [("GIF", "gif"), ("WEBP", "webp")])
def test_clean_image__emoji_animation_kept_frame_for_frame(kind: str, ext: str) -> None:
    animation = images.animation(kind)

    clean = clean_image(animation, ext, EMOJI_IMAGE, field="image")

    stored = _open(clean.data)
    assert getattr(stored, "n_frames", 1) == 4
    assert images.pixels(clean.data) == images.pixels(animation)
    durations = []
    for index in range(4):
        stored.seek(index)
        stored.load()
        durations.append(stored.info["duration"])
    assert durations == [100, 110, 120, 130]


@pytest.mark.parametrize(("kind", "ext"), [("GIF", "gif"), ("WEBP", "webp")])
def test_clean_image__avatar_animation_keeps_its_first_frame(kind: str, ext: str) -> None:
    animation = images.animation(kind)

    clean = clean_image(animation, ext, AVATAR, field="avatar")

    stored = _open(clean.data)
    assert getattr(stored, "n_frames", 1) == 1
    # The first frame's bar is at the left (WebP avatars are lossy: colours only roughly).
    red, green, _ = _rgb(stored, 3, 16)
    assert red > 200
    assert green < 60
    assert _rgb(stored, 12, 16)[0] < 100  # where the second frame's bar is


def test_clean_image__animation_over_the_frame_limit_refused() -> None:
    animation = images.animation("GIF", MAX_FRAMES + 1, (8, 8))

    with pytest.raises(ValidationError, match=f"over {MAX_FRAMES} frames"):
        clean_image(animation, "gif", EMOJI_IMAGE, field="image")


async def test_media_store_save__bomb_writes_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=64 * 1024)

    with pytest.raises(ValidationError, match=BOMB_MESSAGE):
        await store.save("avatars", "alice", images.bomb_png(), AVATAR, field="avatar")

    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # noqa: ASYNC240


async def test_media_store_save__stores_the_clean_copy(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=1024 * 1024)
    photo = images.picture("JPEG", (2000, 1000), exif=images.gps_exif())

    relative = await store.save("headers", "bob", photo, HEADER, field="header")

    stored = _open((tmp_path / relative).read_bytes())
    assert relative.endswith(".jpg")
    assert stored.size == (1224, 612)  # 750,000 pixels at most
    assert stored.getexif().get_ifd(images.GPS_IFD) == {}
