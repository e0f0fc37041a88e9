"""A job's files: the user's photo fetched from Telegram, results kept on disk for 📎."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.storage.jobs import JobRecord
from services.base import GeneratedImage
from services.exceptions import ImageTooLargeError

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""The largest file the Bot API lets a bot download."""

RESULT_RETENTION = 7 * 24 * 3600
"""Seconds a result file is kept for the 📎 original file button."""

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A result kept on disk, as the job's row records it."""

    file_name: str
    mime_type: str
    remote_id: str | None


class JobFiles:
    """Reads inputs from Telegram and keeps result files under one folder."""

    def __init__(self, *, bot: Bot, results_dir: Path) -> None:
        self._bot = bot
        self._results_dir = results_dir

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
        """Keep the untouched result on disk, where the bytes stay from now on."""
        extension = EXTENSIONS.get(image.mime_type, "bin")
        path = self._results_dir / f"{job.id}.{extension}"
        await asyncio.to_thread(_write_file, path, image.data)
        return StoredResult(path.name, image.mime_type, image.remote_id)

    async def prune(self, *, now: float, max_age: float = RESULT_RETENTION) -> int:
        """Delete result files older than `max_age`; returns how many."""
        return await asyncio.to_thread(_prune, self._results_dir, now - max_age)

    async def has_result(self, job: JobRecord) -> bool:
        """True when the job's result file is on disk (a restart during delivery)."""
        return job.result_path is not None and await asyncio.to_thread(
            (self._results_dir / job.result_path).is_file
        )

    def result_file(self, job: JobRecord) -> Path | None:
        """Where the job's untouched result is kept, if it has one."""
        return None if job.result_path is None else self._results_dir / job.result_path


def _prune(folder: Path, cutoff: float) -> int:
    removed = 0
    for path in folder.glob("*") if folder.is_dir() else ():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(path)  # a crash never leaves a half-written result behind
