"""Telegram photo rules: what sendPhoto takes as is, and converting what it does not."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from services.images.detection import decode_first_frame, open_image, read_header, working_frame
from services.images.fitting import scaled, shrink

TELEGRAM_PHOTO_MAX_BYTES = 10_000_000
TELEGRAM_PHOTO_MAX_SIDES_SUM = 10_000
TELEGRAM_PHOTO_MAX_RATIO = 20

_TELEGRAM_PASSTHROUGH = frozenset({"JPEG", "PNG"})
# Telegram displays photos at most 2560 px wide; 4096 keeps zooming useful and files small.
_CONVERT_MAX_LONG_SIDE = 4096

# Letterbox padding: white, or transparent white when the image has alpha.
_PAD_FILL: dict[str, tuple[int, ...]] = {
    "L": (255,),
    "LA": (255, 0),
    "RGB": (255, 255, 255),
    "RGBA": (255, 255, 255, 0),
}


@dataclass(frozen=True, slots=True)
class TelegramPhoto:
    """Bytes fit for sendPhoto; no copy of the original is kept (the caller still holds it)."""

    data: bytes
    mime_type: str
    converted: bool


def telegram_photo(data: bytes) -> TelegramPhoto:
    """Return `data` if sendPhoto takes it as is, else a JPEG (or PNG with alpha) that it takes.

    The image is decoded once: cheaply to verify it when it passes as is, else for conversion.
    """
    with open_image(data) as im:
        info = read_header(im, len(data))
        if (
            info.format in _TELEGRAM_PASSTHROUGH
            and info.size <= TELEGRAM_PHOTO_MAX_BYTES
            and info.width + info.height <= TELEGRAM_PHOTO_MAX_SIDES_SUM
            and max(info.width, info.height)
            <= TELEGRAM_PHOTO_MAX_RATIO * min(info.width, info.height)
        ):
            decode_first_frame(im, draft_long_side=1)
            return TelegramPhoto(data=data, mime_type=info.mime_type, converted=False)
        decode_first_frame(im, draft_long_side=_CONVERT_MAX_LONG_SIDE)
        frame = working_frame(im)
    frame = _pad_to_ratio(_cap_long_side(frame, _CONVERT_MAX_LONG_SIDE))
    fitted = shrink(frame, TELEGRAM_PHOTO_MAX_BYTES, original_size=info.size)
    return TelegramPhoto(data=fitted.data, mime_type=fitted.mime_type, converted=True)


def _cap_long_side(frame: Image.Image, long_side: int) -> Image.Image:
    """Scale `frame` down so its longer side is at most `long_side`."""
    if max(frame.size) <= long_side:
        return frame
    return scaled(frame, long_side)


def _pad_to_ratio(frame: Image.Image) -> Image.Image:
    """Letterbox `frame` to exactly the Telegram aspect ratio limit when it exceeds it."""
    width, height = frame.size
    if max(width, height) <= TELEGRAM_PHOTO_MAX_RATIO * min(width, height):
        return frame
    if width > height:
        size = (width, math.ceil(width / TELEGRAM_PHOTO_MAX_RATIO))
    else:
        size = (math.ceil(height / TELEGRAM_PHOTO_MAX_RATIO), height)
    canvas = Image.new(frame.mode, size, _PAD_FILL[frame.mode])
    canvas.paste(frame, ((size[0] - width) // 2, (size[1] - height) // 2))
    canvas.info = frame.info
    return canvas
