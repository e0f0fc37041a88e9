"""Image checks and conversions: real type detection, fitting under a byte limit, Telegram photos.

Every function here is synchronous, CPU-bound and touches no shared state, so callers run them
off the event loop (the bot on its image threads, the clients in `asyncio.to_thread`). Each works
on one decoded image at a time.
"""

from services.images.detection import ImageInfo, inspect_image, sniff_image
from services.images.fitting import fit_under
from services.images.telegram import TelegramPhoto, telegram_photo

__all__ = [
    "ImageInfo",
    "TelegramPhoto",
    "fit_under",
    "inspect_image",
    "sniff_image",
    "telegram_photo",
]
