"""Real images for tests: tiny ones built from bytes (1x1 pixel each), and ones Pillow draws
(photos with location data, animations, polyglots, decompression bombs)."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import Image, ImageDraw

# EXIF tag numbers (the TIFF/EXIF specification).
GPS_IFD = 0x8825
ORIENTATION = 0x0112
GPS_LATITUDE = 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png(padding: int = 0) -> bytes:
    """A valid 1x1 PNG; `padding` zero bytes after IEND make it bigger (still a PNG)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 8-bit RGBA
    pixels = zlib.compress(b"\x00\xf4\xa2\x3a\xff")
    image = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels)
    return image + _chunk(b"IEND", b"") + b"\x00" * padding


@functools.cache
def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A 1-bit black PNG of `width`x`height` pixels, built row by row (never held whole):
    20000x20000 is 400 megapixels in under 50 KiB."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the bits
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


# A PNG signature and a header chunk, then no image at all.
BROKEN_PNG = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
BROKEN_PNG += b"<html><script>alert(1)</script></html>" * 4

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# A 1x1 lossless WebP (RIFF container, VP8L bitstream).
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88"
    b"\xfe\x07\x00"
)


def picture(
    kind: str,
    size: tuple[int, int] = (1, 1),
    *,
    colour: tuple[int, int, int, int] = (244, 162, 58, 255),
    **options: object,
) -> bytes:
    """A `size` image of one colour with a dark square in its top-left quarter (so turning and
    shrinking can be seen), saved by Pillow as `kind` ("PNG", "JPEG", "GIF", "WEBP");
    `options` go to Image.save (exif=…, comment=…, icc_profile=…)."""
    image = Image.new("RGBA", size, colour)
    width, height = size
    if width >= 4 and height >= 4:
        ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(20, 20, 20, 255))
    if kind == "JPEG":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


JPEG = picture("JPEG")


def gps_exif(*, orientation: int | None = None) -> bytes:
    """EXIF naming a place (35°39'N, the latitude of Tokyo) and a camera, and optionally an
    orientation (6: the camera was turned; draw the picture turned 90° clockwise)."""
    exif = Image.Exif()
    exif[0x010F] = "KizunaCam"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"  # GPSLatitudeRef
    gps[GPS_LATITUDE] = (35.0, 39.0, 29.0)
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (139.0, 44.0, 28.0)
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif.tobytes()


def animation(kind: str, frames: int = 4, size: tuple[int, int] = (32, 32)) -> bytes:
    """A `frames`-frame animation (GIF or WEBP): a bar moving right on a clear background,
    each frame shown 100 + 10*i ms, looping."""
    width, height = size
    images = []
    for i in range(frames):
        frame = Image.new("RGBA", size, (0, 0, 0, 0))
        left = (i * width // frames) % width
        bar = (left, 0, left + max(1, width // frames) - 1, height - 1)
        ImageDraw.Draw(frame).rectangle(bar, fill=(255, 60 * i % 256, 0, 255))
        images.append(frame)
    out = io.BytesIO()
    options: dict[str, object] = {"lossless": True} if kind == "WEBP" else {"disposal": 2}
    images[0].save(
        out,
        kind,
        save_all=True,
        append_images=images[1:],
        duration=[100 + 10 * i for i in range(frames)],
        loop=0,
        **options,
    )
    return out.getvalue()


POLYGLOT_SCRIPT = b"<script>alert(document.cookie)</script>"


def polyglot_gif() -> bytes:
    """A GIF that is also an HTML page: a real 8x8 image whose comment holds a script, and
    more HTML after the GIF's end (a browser sniffing it as HTML would run the script)."""
    image = picture("GIF", (8, 8), comment=b"<html><body>" + POLYGLOT_SCRIPT)
    return image + b"<html><body>" + POLYGLOT_SCRIPT + b"</body></html>"


def pixels(data: bytes) -> tuple[str | None, tuple[int, int], list[bytes]]:
    """What an image shows, for comparing a stored (re-encoded) image with what was sent:
    its format, its size and every frame's RGBA pixels."""
    with Image.open(io.BytesIO(data)) as image:
        frames = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frames.append(image.convert("RGBA").tobytes())
        return image.format, image.size, frames
