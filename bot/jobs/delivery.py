"""Getting a job's input from Telegram and its result back to the chat."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, ReplyParameters

from bot.formatting import CAPTION_LIMIT, escape, shorten, split_text
from bot.imaging import ImageWorkers
from bot.keyboards import result_keyboard
from bot.providers import display_name
from bot.storage.jobs import JobRecord, Jobs, JobState
from bot.telegram import delete_quietly, edit_text
from services.base import GeneratedImage
from services.exceptions import ImageTooLargeError

logger = logging.getLogger(__name__)

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""The largest file the Bot API lets a bot download."""

RESULT_RETENTION = 7 * 24 * 3600
"""Seconds a result file is kept for the 📎 original file button."""

PHOTO_UPLOADS = 32
"""Results converted and sent at once; the others wait holding no image. Telegram takes about
30 messages a second from one bot, so more at once would not deliver sooner."""

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def reply_to(message_id: int | None) -> ReplyParameters | None:
    """Answer this message of the user's, if there is one and it still exists."""
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A result kept on disk, as the job's row records it."""

    file_name: str
    mime_type: str
    remote_id: str | None


class Delivery:
    """Reads inputs from Telegram, keeps result files, and sends results and status texts."""

    def __init__(self, *, bot: Bot, jobs: Jobs, results_dir: Path, images: ImageWorkers) -> None:
        self._bot = bot
        self._jobs = jobs
        self._results_dir = results_dir
        self._images = images
        self._uploads = asyncio.Semaphore(PHOTO_UPLOADS)
        self.uploads_waiting = 0
        """Results kept and waiting for one of the PHOTO_UPLOADS slots."""

    @staticmethod
    def reply_to(job: JobRecord) -> ReplyParameters | None:
        """Answer the user's request message, if it still exists."""
        return reply_to(job.request_message_id)

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
        extension = _EXTENSIONS.get(image.mime_type, "bin")
        path = self._results_dir / f"{job.id}.{extension}"
        await asyncio.to_thread(_write_file, path, image.data)
        return StoredResult(path.name, image.mime_type, image.remote_id)

    async def mark_delivering(self, job: JobRecord, result: StoredResult) -> JobRecord | None:
        """Record the kept result and move the job on to delivery: the job as now stored, or
        None if it was cancelled."""
        # Also from delivering: a restart found the job's kept file gone, so it was fetched again.
        if not await self._jobs.transition(
            job.id,
            to=JobState.DELIVERING,
            expect=(JobState.POLLING, JobState.DELIVERING),
            now=time.time(),
            result_path=result.file_name,
            result_mime=result.mime_type,
            remote_id=result.remote_id,
        ):
            return None
        return replace(
            job,
            state=JobState.DELIVERING,
            result_path=result.file_name,
            result_mime=result.mime_type,
            remote_id=result.remote_id,
        )

    async def prune_results(self, *, now: float, max_age: float = RESULT_RETENTION) -> int:
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

    async def deliver_image(self, job: JobRecord) -> None:
        """Send the kept result (`job` as stored in delivering) as a photo, converted if Telegram
        needs it, with its buttons."""
        path = self.result_file(job)
        assert path is not None
        async with self._upload_slot():
            photo = await self._images.photo_from_file(path)
            extension = _EXTENSIONS.get(photo.mime_type, "jpg")
            message = await self._bot.send_photo(
                chat_id=job.chat_id,
                photo=BufferedInputFile(photo.data, filename=f"iris-{job.id}.{extension}"),
                caption=self.caption(job),
                reply_markup=result_keyboard(job),
                reply_parameters=self.reply_to(job),
            )
        await self._jobs.add_message(job.id, chat_id=job.chat_id, message_id=message.message_id)
        await self._finish(job, result_message_id=message.message_id)

    async def deliver_answer(
        self, job: JobRecord, answer: str, *, notice: str | None = None
    ) -> None:
        """Send a describe answer, split at Telegram's limit, as replies to the photo.

        Every part is remembered, so a reply to any of them asks a follow-up question.
        """
        text = escape(answer) if notice is None else f"{escape(notice)}\n\n{escape(answer)}"
        first_id: int | None = None
        for part in split_text(text):
            message = await self._bot.send_message(
                chat_id=job.chat_id,
                text=part,
                reply_parameters=self.reply_to(job) if first_id is None else None,
            )
            first_id = first_id or message.message_id
            await self._jobs.add_message(job.id, chat_id=job.chat_id, message_id=message.message_id)
        await self._finish(job, result_message_id=first_id)

    async def replace_status(
        self, job: JobRecord, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> int:
        """Show `text` in the job's status message, or in a new message if that one is gone;
        the id of the message that shows it."""
        if job.status_message_id is not None and await edit_text(
            self._bot,
            chat_id=job.chat_id,
            message_id=job.status_message_id,
            text=text,
            reply_markup=reply_markup,
        ):
            return job.status_message_id
        message = await self._bot.send_message(
            chat_id=job.chat_id,
            text=text,
            reply_markup=reply_markup,
            reply_parameters=self.reply_to(job),
        )
        return message.message_id

    @asynccontextmanager
    async def _upload_slot(self) -> AsyncIterator[None]:
        """One of the PHOTO_UPLOADS slots; counted in uploads_waiting while awaited."""
        self.uploads_waiting += 1
        try:
            await self._uploads.acquire()
        finally:
            self.uploads_waiting -= 1
        try:
            yield
        finally:
            self._uploads.release()

    def caption(self, job: JobRecord) -> str:
        """The prompt (shortened), the provider and the options, within Telegram's 1024."""
        options = " ".join(f"--{name} {value}" for name, value in sorted(job.options.items()))
        footer = escape(" · ".join(filter(None, [display_name(job.provider), options])))
        room = CAPTION_LIMIT - len(footer) - len("<i></i>\n")
        return f"<i>{shorten(escape(job.prompt), room)}</i>\n{footer}"

    async def _finish(self, job: JobRecord, *, result_message_id: int | None) -> None:
        done = await self._jobs.transition(
            job.id,
            to=JobState.DONE,
            expect=(JobState.DELIVERING,),
            now=time.time(),
            result_message_id=result_message_id,
        )
        if done and job.status_message_id is not None:
            await delete_quietly(self._bot, chat_id=job.chat_id, message_id=job.status_message_id)
        logger.info("delivered")


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
