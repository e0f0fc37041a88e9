"""Pillow work off the event loop, on threads of its own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from services.images import ImageInfo, TelegramPhoto, inspect_image, telegram_photo

A = TypeVar("A")
R = TypeVar("R")


class ImageWorkers:
    """Decodes and converts images on one thread per core.

    Not the default executor: a burst of conversions (a thousand results done at once) would
    queue ahead of the file writes and DNS lookups that share it. Pillow releases the GIL while
    it decodes and encodes, so these threads use every core.
    """

    def __init__(self, *, threads: int | None = None) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1, thread_name_prefix="images"
        )

    async def inspect(self, data: bytes) -> ImageInfo:
        """The real type and size of `data`, checking that it decodes (InvalidImageError)."""
        return await self._run(inspect_image, data)

    async def photo(self, data: bytes) -> TelegramPhoto:
        """`data` as sendPhoto takes it (see services.images.telegram_photo)."""
        return await self._run(telegram_photo, data)

    def close(self) -> None:
        """Stop the threads; work not yet started is dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Callable[[A], R], argument: A) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, argument)
