"""Reading images as Telegram does: dimensions, file extension and a small thumbnail."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

THUMB_SIDE = 90


@dataclass(frozen=True, slots=True)
class Picture:
    """What the emulator keeps of a decoded image."""

    width: int
    height: int
    ext: str
    thumb: bytes
    thumb_width: int
    thumb_height: int


PictureDecoder = Callable[[bytes], Picture]
"""Decodes image bytes or raises ValueError; the emulator takes one (e.g. a cached one)."""


def decode_picture(data: bytes) -> Picture:
    """Dimensions, file extension and a small JPEG thumbnail of an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            ext = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}.get(image.format or "", ".jpg")
            thumb = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError("not an image Telegram can read") from e
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    thumb.save(out, format="JPEG")
    return Picture(width, height, ext, out.getvalue(), thumb.width, thumb.height)
