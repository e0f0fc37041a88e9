"""OPERATOR_DAILY_LIMIT: jobs on the operator's keys, counted and stored in one step."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n

from bot.choices import KEYS_DEEP_LINK
from bot.jobs.notifier import Notifier, Target
from bot.jobs.texts import daily_limit_text
from bot.keyboards import deep_link_keyboard
from bot.storage.interfaces import Jobs
from bot.storage.jobs import JobRecord, Lease, NewJob

logger = logging.getLogger(__name__)


class DailyLimit:
    """Stores new jobs, each user's on the operator's keys up to `limit` a day (UTC)."""

    def __init__(self, *, bot: Bot, jobs: Jobs, notifier: Notifier, i18n: I18n, limit: int) -> None:
        self._bot = bot
        self._jobs = jobs
        self._notifier = notifier
        self._i18n = i18n
        self._limit = limit

    async def create(self, new: NewJob, *, lease: Lease) -> JobRecord | None:
        """The stored job; None when a job on the operator's keys would pass the daily limit
        (the user is told), counted and stored at once so no other process slips one in."""
        now = time.time()
        if new.credential_source != "operator":
            return await self._jobs.create(new, now=now, lease=lease)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        job = await self._jobs.create_within_limit(
            new, now=now, since=midnight.timestamp(), limit=self._limit, lease=lease
        )
        if job is None:
            logger.info("user %d reached the daily limit on the operator's keys", new.user_id)
            await self._tell(new)
        return job

    async def _tell(self, new: NewJob) -> None:
        """The limit, and a link to add keys of one's own, where the request was made."""
        with self._i18n.context(), self._i18n.use_locale(new.language):
            keyboard = deep_link_keyboard(await create_start_link(self._bot, KEYS_DEEP_LINK))
            text = daily_limit_text(self._limit)
            if new.inline_message_id is not None:
                await self._notifier.inline.edit(new.inline_message_id, text, keyboard)
                return
            target = Target(new.chat_id, new.thread_id, new.request_message_id)
            await self._notifier.send(target, text, reply_markup=keyboard)
