"""A job's files: the user's photo fetched from Telegram, results kept for 📎."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.storage.jobs import JobRecord
from bot.storage.results import ResultStore, result_name
from services.base import GeneratedImage
from services.exceptions import ImageTooLargeError

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""The largest file the Bot API lets a bot download."""

RESULT_RETENTION = 7 * 24 * 3600
"""Seconds a result is kept for the 📎 original file button."""


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A kept result, as the job's row records it."""

    file_name: str
    mime_type: str
    remote_id: str | None


class JobFiles:
    """Reads inputs from Telegram and keeps results in the storage's ResultStore."""

    def __init__(self, *, bot: Bot, results: ResultStore) -> None:
        self._bot = bot
        self._results = results

    async def download_input(self, file_id: str) -> bytes:
        """The bytes of a photo or document the user sent."""
        try:
            file = await self._bot.get_file(file_id)
        except TelegramBadRequest as e:
            if "file is too big" in e.message:
                raise ImageTooLargeError(
                    "Telegram refuses to hand bots files over 20 MB",
                    limit=TELEGRAM_DOWNLOAD_LIMIT,
                ) from e
            raise
        if file.file_path is None:
            raise ImageTooLargeError(
                "Telegram gave no file path", limit=TELEGRAM_DOWNLOAD_LIMIT, size=file.file_size
            )
        buffer = io.BytesIO()
        await self._bot.download_file(file.file_path, destination=buffer)
        return buffer.getvalue()

    async def write_result(self, job: JobRecord, image: GeneratedImage) -> StoredResult:
        """Keep the untouched result, where the bytes stay from now on."""
        await self._results.put(job.id, image.data, mime_type=image.mime_type, now=time.time())
        return StoredResult(result_name(job.id, image.mime_type), image.mime_type, image.remote_id)

    async def prune(self, *, now: float, max_age: float = RESULT_RETENTION) -> int:
        """Drop results older than `max_age`; returns how many."""
        return await self._results.prune(before=now - max_age)

    async def has_result(self, job: JobRecord) -> bool:
        """True when the job's result is kept (a restart during delivery)."""
        return job.result_path is not None and await self._results.exists(job.id)

    async def read_result(self, job: JobRecord) -> bytes | None:
        """The job's untouched result, if it has one still kept."""
        return None if job.result_path is None else await self._results.get(job.id)
