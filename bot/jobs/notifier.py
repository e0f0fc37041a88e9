"""Every Telegram message about a job: status, progress, outcome and result; never its state."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, ReplyParameters

from bot.background import cancel_and_wait
from bot.formatting import CAPTION_LIMIT, escape, shorten, split_text
from bot.imaging import ImageWorkers
from bot.jobs.buttons import cancel_keyboard, inline_result_keyboard, result_keyboard
from bot.jobs.files import JobFiles
from bot.jobs.inline import INLINE_SHOWN, InlineMessages, SentImage, framed
from bot.jobs.texts import working_text
from bot.jobs.timing import Timing
from bot.outbox import Outbox, Priority, Superseded, sending_as
from bot.providers import display_name
from bot.storage.jobs import JobKind, JobRecord
from bot.storage.results import EXTENSIONS
from bot.telegram import delete_quietly, edit_text

logger = logging.getLogger(__name__)

PHOTO_UPLOADS = 32
"""Results converted and sent at once; the others wait holding no image. Telegram takes about
30 messages a second from one bot, so more at once would not deliver sooner."""

GROUP_STATUS_PATIENCE = 1.0
"""Seconds a group's status message may wait for budget before the job goes on without it."""

PROGRESS_SHARE = 0.1
"""The part of the bot's message budget that progress edits of all running jobs share."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a job's messages go: its chat and forum topic, the request they answer."""

    chat_id: int
    thread_id: int | None
    request_message_id: int | None

    @classmethod
    def of(cls, job: JobRecord) -> Target:
        """The target a stored job addresses."""
        return cls(job.chat_id, job.thread_id, job.request_message_id)

    @property
    def reply(self) -> ReplyParameters | None:
        """Answer the request message, if there is one and it still exists."""
        if self.request_message_id is None:
            return None
        return ReplyParameters(message_id=self.request_message_id, allow_sending_without_reply=True)


class Notifier:
    """Talks to Telegram about jobs through the outbox, counting what each job costs."""

    def __init__(
        self,
        *,
        bot: Bot,
        outbox: Outbox,
        files: JobFiles,
        images: ImageWorkers,
        timing: Timing,
        running: Callable[[], int],
        storage_chat_id: int | None = None,
    ) -> None:
        self._bot = bot
        self.inline = InlineMessages(bot=bot, storage_chat_id=storage_chat_id)
        self._outbox = outbox
        self._files = files
        self._images = images
        self._timing = timing
        self._running = running
        self._uploads = asyncio.Semaphore(PHOTO_UPLOADS)
        self._spent: Counter[int] = Counter()
        self.uploads_waiting = 0
        """Results kept and waiting for one of the PHOTO_UPLOADS slots."""

    def spent(self, job: JobRecord) -> int:
        """Messages sent or edited for this job so far; forgotten once read."""
        return self._spent.pop(job.id, 0)

    async def send(
        self,
        target: Target,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        priority: Priority = Priority.ANSWER,
        within: float | None = None,
    ) -> int:
        """A new message in the target's chat and topic, answering its request; its id."""
        with sending_as(priority, within=within):
            message = await self._bot.send_message(
                chat_id=target.chat_id,
                message_thread_id=target.thread_id,
                text=text,
                reply_markup=reply_markup,
                reply_parameters=target.reply,
            )
        return message.message_id

    async def open_status(self, job: JobRecord, text: str) -> int | None:
        """The job's status message with its Cancel button; None where a group's budget is
        better kept for results (the job runs on, and /tasks can cancel it). An inline job's
        status is its inline message (None: it has no id in a chat)."""
        if job.inline_message_id is not None:
            self._spent[job.id] += 1
            with sending_as(Priority.STATUS):
                await self.inline.edit(
                    job.inline_message_id, framed(job, text), cancel_keyboard(job.id)
                )
            return None
        group = job.chat_type != "private"
        if group and not self._outbox.has_room(job.chat_id, Priority.STATUS):
            logger.info("no status message: the group's message budget is kept for results")
            return None
        self._spent[job.id] += 1
        try:
            return await self.send(
                Target.of(job),
                text,
                reply_markup=cancel_keyboard(job.id),
                priority=Priority.STATUS,
                # Others may have taken the room since: a group's status is not worth a wait.
                within=GROUP_STATUS_PATIENCE if group else None,
            )
        except Superseded:
            logger.info("no status message: the group's budget was taken meanwhile")
            return None

    async def update_status(self, job: JobRecord, text: str, *, final: bool = False) -> bool:
        """Change the status text (coalesced unless `final`); False when the message is gone."""
        if job.status_message_id is None and job.inline_message_id is None:
            return False
        self._spent[job.id] += 1
        markup = None if final else cancel_keyboard(job.id)
        with sending_as(Priority.ANSWER if final else Priority.PROGRESS):
            if job.inline_message_id is not None:
                return await self.inline.edit(job.inline_message_id, framed(job, text), markup)
            assert job.status_message_id is not None
            return await edit_text(
                self._bot,
                chat_id=job.chat_id,
                message_id=job.status_message_id,
                text=text,
                reply_markup=markup,
            )

    async def tell(
        self, job: JobRecord, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> int:
        """Show an outcome in the job's status message, or in a new message if there is none
        (or it is gone); the id of the message that shows it."""
        self._spent[job.id] += 1
        if job.inline_message_id is not None:
            await self.inline.edit(job.inline_message_id, framed(job, text), reply_markup)
            return INLINE_SHOWN
        if job.status_message_id is not None and await edit_text(
            self._bot,
            chat_id=job.chat_id,
            message_id=job.status_message_id,
            text=text,
            reply_markup=reply_markup,
        ):
            return job.status_message_id
        return await self.send(Target.of(job), text, reply_markup=reply_markup)

    async def send_image(self, job: JobRecord) -> SentImage:
        """Send the kept result as a photo (converted if Telegram needs it) with its buttons;
        an inline job's goes into its inline message."""
        async with self._upload_slot():
            # Read within the slot: results waiting for one hold no image.
            kept = await self._files.read_result(job)
            if kept is None:
                raise LookupError(f"job {job.id} has no kept result")
            photo = await self._images.photo(kept)
            del kept
            extension = EXTENSIONS.get(photo.mime_type, "jpg")
            upload = BufferedInputFile(photo.data, filename=f"iris-{job.id}.{extension}")
            target = Target.of(job)
            self._spent[job.id] += 1
            if job.inline_message_id is not None:
                self._spent[job.id] += 1
                return await self.inline.show_photo(
                    job, upload, caption=caption(job), reply_markup=inline_result_keyboard(job)
                )
            message = await self._bot.send_photo(
                chat_id=job.chat_id,
                message_thread_id=target.thread_id,
                photo=upload,
                caption=caption(job),
                reply_markup=result_keyboard(job),
                reply_parameters=target.reply,
            )
        file_id = message.photo[-1].file_id if message.photo else None
        return SentImage(message.message_id, file_id)

    async def send_answer(
        self, job: JobRecord, answer: str, *, notice: str | None = None
    ) -> AsyncIterator[int]:
        """Send a describe answer split at Telegram's limit, every part in the job's topic and
        the first one answering the photo; yields each part's message id as it is sent."""
        text = escape(answer) if notice is None else f"{escape(notice)}\n\n{escape(answer)}"
        target = Target.of(job)
        for index, part in enumerate(split_text(text)):
            self._spent[job.id] += 1
            yield await self.send(target if index == 0 else _unanswering(target), part)

    async def remove_status(self, job: JobRecord) -> None:
        """Delete the status message once the result is shown (an inline job's status became
        the result itself)."""
        if job.status_message_id is not None and job.inline_message_id is None:
            await delete_quietly(self._bot, chat_id=job.chat_id, message_id=job.status_message_id)

    @asynccontextmanager
    async def progress(self, job: JobRecord) -> AsyncIterator[None]:
        """While the block runs: the chat action, and status edits as the budget allows."""
        task = asyncio.create_task(self._report_progress(job), name=f"job-{job.id}-progress")
        try:
            yield
        finally:
            await cancel_and_wait(task)

    def _edit_every(self) -> float:
        """Seconds between one job's progress edits: every running job shares PROGRESS_SHARE
        of the budget, so under load each edits less often."""
        share = self._outbox.pacing.rate * PROGRESS_SHARE
        return max(self._timing.progress_every, self._running() / share)

    async def _report_progress(self, job: JobRecord) -> None:
        started = time.monotonic()
        action = "upload_photo" if job.kind is JobKind.GENERATE else "typing"
        last_edit = started
        next_action, next_edit = started, started + self._edit_every()
        inline = job.inline_message_id is not None
        alive = job.status_message_id is not None or inline
        while True:
            now = time.monotonic()
            try:
                if now >= next_action and not inline:  # an inline message has no chat to act in
                    next_action = now + self._timing.action_every
                    with sending_as(Priority.PROGRESS):
                        await self._bot.send_chat_action(
                            chat_id=job.chat_id, message_thread_id=job.thread_id, action=action
                        )
                # Planned when fewer jobs may have run (a burst starts one by one): due again
                # at the interval the load asks for now.
                next_edit = max(next_edit, last_edit + self._edit_every())
                if alive and now >= next_edit:
                    last_edit, next_edit = now, now + self._edit_every()
                    if self._outbox.has_room(job.chat_id, Priority.PROGRESS):
                        alive = await self.update_status(job, working_text(job, int(now - started)))
            except TelegramAPIError as e:
                # Progress is decoration: a failure here must never fail the job itself.
                logger.debug("progress update failed: %s", type(e).__name__)
            wake = min(next_action, next_edit) if alive else next_action
            await asyncio.sleep(max(0.0, wake - time.monotonic()))

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


def caption(job: JobRecord) -> str:
    """The prompt (shortened), the provider and the options, within Telegram's 1024."""
    options = " ".join(f"--{name} {value}" for name, value in sorted(job.options.items()))
    footer = escape(" · ".join(filter(None, [display_name(job.provider), options])))
    room = CAPTION_LIMIT - len(footer) - len("<i></i>\n")
    return f"<i>{shorten(escape(job.prompt), room)}</i>\n{footer}"


def _unanswering(target: Target) -> Target:
    """The same chat and topic without answering the request (later parts of an answer)."""
    return Target(target.chat_id, target.thread_id, None)
