"""Every image that enters the server is decoded and re-encoded here: pixel-capped, turned
upright, shrunk, converted to sRGB and written afresh without metadata.

Why decode at all: a magic-byte check lets through a 20000×20000 PNG of a few KiB (400
megapixels once drawn), JPEG location data (EXIF GPS), and polyglots (a real GIF header
followed by HTML). Only the pixels survive a re-encode; comments, EXIF, XMP, text chunks and
anything after the image's end are gone. Pillow's own decompression-bomb guard (warning
over ~89 megapixels, error over twice that) is a backstop; our cap is lower and checked
from the header before any pixel is decoded.

The kind stays the same (PNG → PNG, JPEG → JPEG at quality 85, GIF → GIF, WebP → WebP);
animation is kept only where `ImageRules.animated` says so (custom emoji), else the first
frame is the image. ICC profiles are applied (the pixels converted to sRGB) and not
written: browsers assume sRGB, and a profile is bytes a sender chose.

Pure (no I/O, no event loop): callers run `clean_image` in a worker thread, since decoding
is CPU work (MediaStore.clean).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageFile, ImageOps, ImageSequence

from kizuna.errors import ValidationError

__all__ = [
    "MAX_FRAMES",
    "MAX_PIXELS",
    "CleanImage",
    "ImageRules",
    "clean_image",
]

# Mastodon's Attachmentable::MAX_MATRIX_LIMIT (7680×4320): a large phone photo passes,
# a decompression bomb does not.
MAX_PIXELS: Final = 33_177_600
# An animation's frames, and their pixels summed, are capped too (decoding is per frame).
MAX_FRAMES: Final = 200
JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 85
_FORMATS: Final = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}
# Pillow answers "MPO" for a JPEG with a second picture (many cameras' depth maps).
_DECODED_AS: Final = {"png": {"PNG"}, "jpg": {"JPEG", "MPO"}, "gif": {"GIF"}, "webp": {"WEBP"}}
_NAMES: Final = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WebP"}
# What a malformed file makes Pillow's decoders raise (UnidentifiedImageError is an OSError;
# "broken PNG" is a SyntaxError; a too-big text chunk is a ValueError).
_DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
)
_SRGB: Final = ImageCms.createProfile("sRGB")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRules:
    """How big a kind of image is kept: both sides at most `max_side` and, if set, at most
    `max_area` pixels (aspect ratio kept; never enlarged)."""

    max_side: int
    max_area: int | None = None
    animated: bool = False  # keep a GIF's or WebP's frames (else the first frame only)
    lossless: bool = False  # WebP written lossless (small drawings, where artefacts show)


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    ext: str  # "png", "jpg", "gif" or "webp"
    width: int
    height: int


def clean_image(data: bytes, kind: str, rules: ImageRules, *, field: str) -> CleanImage:
    """`data` (which sniffed as `kind`) decoded and written again by `rules`; raises
    ValidationError on `field` for a file that is not a whole image of that kind, or one
    over MAX_PIXELS (or, animated, over MAX_FRAMES)."""
    name = _NAMES[kind]
    broken = ValidationError(f"the file is not a valid {name} image", field=field)
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[kind]]) as source:
            if source.format not in _DECODED_AS[kind]:
                raise broken
            _check_pixels(*source.size, field=field)
            frames = _frames(source, rules, field=field)
            loop = source.info.get("loop")
            return _encode(frames, kind, rules, loop=loop if isinstance(loop, int) else None)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Over Pillow's own limit, which is above ours (pytest turns the warning into an
        # error; elsewhere it is logged and our cap refuses the same image).
        size = _declared_size(data, kind)
        if size is not None:
            _check_pixels(*size, field=field)
        raise ValidationError(
            f"the image has too many pixels; the limit is {_limit()}", field=field
        ) from None
    except _DECODE_ERRORS:
        raise broken from None


@dataclass(frozen=True, slots=True)
class _Frame:
    image: Image.Image
    duration: int


def _frames(source: ImageFile.ImageFile, rules: ImageRules, *, field: str) -> list[_Frame]:
    """The decoded frames, upright, shrunk, in sRGB, in RGB(A) or L mode with no `info`."""
    animated = (
        rules.animated
        and source.format in ("GIF", "WEBP")
        and bool(getattr(source, "is_animated", False))
    )
    if not animated:
        target = _target_size(source.size, rules)
        if target != source.size:
            source.draft(source.mode, target)  # JPEG: decode at 1/2, 1/4 or 1/8 scale
        source.load()
        still = ImageOps.exif_transpose(source)
        return [_Frame(_finish(still, source, rules, _plain_mode(still)), 0)]
    frames: list[_Frame] = []
    pixels = 0
    for index, frame in enumerate(ImageSequence.Iterator(source)):
        if index >= MAX_FRAMES:
            raise ValidationError(
                f"the animation has over {MAX_FRAMES} frames; the limit is {MAX_FRAMES}",
                field=field,
            )
        width, height = frame.size
        pixels += width * height
        if pixels > MAX_PIXELS:
            raise ValidationError(
                f"the animation's frames hold over {MAX_PIXELS:,} pixels together; "
                f"the limit is {_limit()}",
                field=field,
            )
        finished = _finish(frame, source, rules, "RGBA")
        # Read after decoding: WebP sets a frame's duration only when it loads it.
        frames.append(_Frame(finished, int(frame.info.get("duration", 100))))
    return frames


def _finish(image: Image.Image, source: Image.Image, rules: ImageRules, mode: str) -> Image.Image:
    """One decoded frame as we keep it: in `mode`, in sRGB, shrunk, with no metadata."""
    icc = source.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "L", "CMYK"):
        # Before any other mode change: the profile describes the decoded channels.
        image = _to_srgb(image, icc, "RGBA" if image.mode == "RGBA" else "RGB")
        if mode == "L":
            mode = "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    target = _target_size(image.size, rules)
    if target != image.size:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    elif image is source:
        image = image.copy()  # never write through the file's own image (or its info)
    image.info = {}
    return image


def _plain_mode(image: Image.Image) -> str:
    """RGBA when the frame has any transparency, L for grey, else RGB."""
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        return "RGBA"
    if image.mode in ("L", "1"):
        return "L"
    return "RGB"


def _to_srgb(image: Image.Image, icc: bytes, mode: str) -> Image.Image:
    """The frame converted from its embedded profile to sRGB; unchanged (the profile just
    dropped) when the profile cannot be read."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _target_size(size: tuple[int, int], rules: ImageRules) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, rules.max_side / width, rules.max_side / height)
    if rules.max_area is not None:
        scale = min(scale, math.sqrt(rules.max_area / (width * height)))
    if scale >= 1.0:
        return size
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def _encode(frames: list[_Frame], kind: str, rules: ImageRules, *, loop: int | None) -> CleanImage:
    first = frames[0].image
    out = io.BytesIO()
    options: dict[str, object] = {}
    if kind == "jpg":
        if first.mode != "L":
            first = first.convert("RGB")  # no alpha in JPEG (none was decoded from one)
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif kind == "webp":
        options = {"lossless": True} if rules.lossless else {"quality": WEBP_QUALITY}
    if len(frames) > 1:
        options |= {
            "save_all": True,
            "append_images": [f.image for f in frames[1:]],
            "duration": [f.duration for f in frames],
        }
        if loop is not None:  # none: played once, as the sender made it
            options["loop"] = loop
        if kind == "gif":
            options["disposal"] = 2  # every frame is whole: clear before the next one
    first.save(out, _FORMATS[kind], **options)
    return CleanImage(out.getvalue(), kind, *first.size)


def _check_pixels(width: int, height: int, *, field: str) -> None:
    if width * height > MAX_PIXELS:
        raise ValidationError(
            f"the image is {width}×{height} pixels; the limit is {_limit()}", field=field
        )


def _limit() -> str:
    return f"{MAX_PIXELS / 1_000_000:.1f} megapixels (such as 7680×4320)"


def _declared_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """The size a file's header declares, read without Pillow's bomb check (for the message
    when that check fired first)."""
    factory: Callable[..., ImageFile.ImageFile] = Image.OPEN[_FORMATS[kind]][0]
    try:
        width, height = factory(io.BytesIO(data), "").size
    except _DECODE_ERRORS:
        return None
    return int(width), int(height)
