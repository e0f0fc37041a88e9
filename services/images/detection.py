"""Image type detection: open with the supported decoders only, read the header, verify, decode."""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps

from services.exceptions import InvalidImageError

# Checked on the header before decoding, so a small file cannot claim a huge canvas (a
# decompression bomb). 72 MP admits 64 MP phone sensors (9248x6936) and stays under Pillow's own
# warning threshold (~89 MP), so Pillow's global MAX_IMAGE_PIXELS is never touched.
MAX_PIXELS = 72_000_000

# Only these decoders are ever tried: probing every Pillow plugin would let EPS run Ghostscript.
_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
_MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}

# What Pillow raises on unreadable data; anything else is a bug and propagates.
PILLOW_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)

_ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
# Their ICC profile does not describe the RGB pixels they are converted to.
_FOREIGN_COLOR_MODES = frozenset({"CMYK", "LAB", "HSV", "YCbCr"})


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an image really is: format, MIME type, displayed size, byte length, frames, alpha."""

    format: str
    mime_type: str
    width: int
    height: int
    size: int
    animated: bool
    has_alpha: bool


def inspect_image(data: bytes) -> ImageInfo:
    """Detect the real type and size of `data`, checking that it decodes."""
    with open_image(data) as im:
        # The smallest draft still decodes (and so verifies) every byte of a JPEG, 64 times cheaper.
        return load_image(im, len(data), draft_long_side=1)


def sniff_image(data: bytes) -> ImageInfo:
    """The type and size of `data` from its header alone, without decoding the pixels.

    For a result that will be decoded anyway on its way to Telegram, where a corrupted one is
    refused; it saves a full decode of every generated image.
    """
    with open_image(data) as im:
        return read_header(im, len(data))


def open_image(data: bytes) -> Image.Image:
    """Open `data` with the supported decoders only, reading just the header."""
    if not data:
        raise InvalidImageError("the image is empty")
    try:
        return Image.open(io.BytesIO(data), formats=_FORMATS)
    except Image.DecompressionBombError as e:
        raise InvalidImageError("the image is too large to process") from e
    except PILLOW_ERRORS as e:
        raise InvalidImageError("not a JPEG, PNG, WebP, GIF, BMP or TIFF image") from e


def load_image(im: Image.Image, size: int, *, draft_long_side: int | None) -> ImageInfo:
    """Describe `im` from its header, refuse oversized canvases, then decode its first frame."""
    info = read_header(im, size)
    decode_first_frame(im, draft_long_side=draft_long_side)
    return info


def read_header(im: Image.Image, size: int) -> ImageInfo:
    """Describe `im` from its header alone; refuse oversized canvases."""
    try:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise InvalidImageError("the image has no pixels")
        if width * height > MAX_PIXELS:
            raise InvalidImageError(f"the image is too large to process ({width}x{height})")
        # A PNG's EXIF may follow its pixels, and Pillow would decode them all to find it.
        exif_known = im.format != "PNG" or "exif" in im.info
        if exif_known and im.getexif().get(ExifTags.Base.Orientation) in _ROTATED_ORIENTATIONS:
            width, height = height, width
        # An MPO is a JPEG with extra views (stereo, depth) appended: shown as its first image.
        image_format = "JPEG" if im.format == "MPO" else str(im.format)
        info = ImageInfo(
            format=image_format,
            mime_type=_MIME_TYPES[image_format],
            width=width,
            height=height,
            size=size,
            animated=image_format != "JPEG" and bool(getattr(im, "is_animated", False)),
            has_alpha=im.has_transparency_data,
        )
    except PILLOW_ERRORS as e:
        raise InvalidImageError("the image is corrupted or truncated") from e
    return info


def decode_first_frame(im: Image.Image, *, draft_long_side: int | None) -> None:
    """Decode the first frame; a JPEG at a reduced scale when `draft_long_side` allows."""
    try:
        if draft_long_side is not None:
            # Lets libjpeg decode at 1/2, 1/4 or 1/8 scale (never below the size asked for);
            # a no-op for other formats.
            scale = min(1.0, draft_long_side / max(im.size))
            im.draft(None, (math.ceil(im.width * scale), math.ceil(im.height * scale)))
        im.load()
    except PILLOW_ERRORS as e:
        raise InvalidImageError("the image is corrupted or truncated") from e


def working_frame(im: Image.Image) -> Image.Image:
    """Copy the loaded frame upright, as L, RGB, LA or RGBA, with alpha only if it is used."""
    try:
        ImageOps.exif_transpose(im, in_place=True)
        gray = im.mode in _GRAY_MODES
        if im.has_transparency_data:
            frame = im.convert("LA" if gray else "RGBA")
            if frame.getchannel("A").getextrema()[0] == 255:
                frame = frame.convert("L" if gray else "RGB")
        else:
            frame = im.convert("L" if gray else "RGB")
    except PILLOW_ERRORS as e:
        raise InvalidImageError("the image uses an unsupported pixel format") from e
    icc = im.info.get("icc_profile")
    # Only the colour profile survives: EXIF (GPS, orientation) and the rest are dropped.
    frame.info = {"icc_profile": icc} if icc and im.mode not in _FOREIGN_COLOR_MODES else {}
    return frame
