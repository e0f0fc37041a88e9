"""The job behind a pressed button, checked once for every button only its owner may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.jobs.buttons import JobAction
from bot.storage import Storage
from handlers.common.stale import no_longer_valid


class PressedJob(BaseMiddleware):
    """Passes the button's job on as `job`: it exists, is in this chat (or this inline message)
    and is the presser's.

    Otherwise the presser is told why not and no handler runs.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, CallbackQuery)
        button: JobAction = data["callback_data"]
        storage: Storage = data["storage"]
        job = await storage.jobs.get(button.job_id)
        if event.inline_message_id is not None:
            here = job is not None and job.inline_message_id == event.inline_message_id
        else:
            chat_id = event.message.chat.id if event.message else None
            here = job is not None and job.chat_id == chat_id and job.inline_message_id is None
        if job is None or not here:
            await no_longer_valid(event)
            return None
        if job.user_id != event.from_user.id:
            await event.answer(_("Only the person who started this job can use this button."))
            return None
        data["job"] = job
        return await handler(event, data)
