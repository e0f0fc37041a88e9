"""How a job ends: its result delivered, or its user told why not, once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.error_texts import code_text, error_code, error_text
from bot.jobs.buttons import retry_keyboard
from bot.jobs.notifier import Notifier
from bot.jobs.steps import NoCredentialError
from bot.jobs.texts import interrupted_text
from bot.jobs.timing import Timing
from bot.logs import job_context, origin
from bot.providers import display_name
from bot.storage import Storage
from bot.storage.jobs import UNFINISHED, JobKind, JobRecord, JobState
from services.exceptions import ServiceError

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TELEGRAM_UNREACHABLE = (TelegramNetworkError, TelegramServerError)
"""Telegram failures that pass: a result is kept and sent again later, never dropped."""


class JobEndings:
    """The last state changes of a job and the messages that go with them."""

    def __init__(
        self, *, storage: Storage, notifier: Notifier, timing: Timing, i18n: I18n, owner: str
    ) -> None:
        self._owner = owner
        """This instance: its state changes hold only while it holds the job."""
        self._jobs = storage.jobs
        self._users = storage.users
        self._notifier = notifier
        self._timing = timing
        self._i18n = i18n

    @asynccontextmanager
    async def guard(self, job: JobRecord) -> AsyncIterator[None]:
        """Whatever ends the job's work early ends the job with a word to its user."""
        try:
            yield
        except TimeoutError:
            stored = await self._jobs.get(job.id)
            # Cut short while a paid call was in flight: the provider may have taken it.
            paid = stored is not None and stored.state is JobState.SUBMITTING
            await self.fail(job, JobState.TIMED_OUT, "outcome_unknown" if paid else "timeout")
        except NoCredentialError:
            await self.fail(job, JobState.FAILED, "auth")
        except ServiceError as e:
            logger.info("%s failed: %s", job.provider, error_code(e))
            await self.fail(job, JobState.FAILED, error_code(e), text=error_text(e))
        except TelegramForbiddenError:
            await self.blocked(job)
            await self._jobs.transition(
                job.id,
                to=JobState.FAILED,
                expect=UNFINISHED,
                now=time.time(),
                owner=self._owner,
                error="blocked",
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - every job ends with a word to its user
            logger.error("unexpected failure: %s", origin(e))
            await self.fail(job, JobState.FAILED, "internal")

    async def deliver(self, job: JobRecord, notice: str | None) -> None:
        """Send the kept result, record every message it took, and close the job."""
        first: int | None = None
        if job.kind is JobKind.GENERATE:
            sent = await self._notifier.send_image(job)
            first = sent.message_id
            if sent.file_id is not None:  # shared again inline by this id, with no upload
                await self._jobs.set_result_file_id(job.id, sent.file_id)
            if first is not None and job.inline_message_id is None:
                await self._jobs.add_message(job.id, chat_id=job.chat_id, message_id=first)
        else:
            assert job.result_text is not None
            async for message_id in self._notifier.send_answer(job, job.result_text, notice=notice):
                first = first or message_id
                await self._jobs.add_message(job.id, chat_id=job.chat_id, message_id=message_id)
        if await self._jobs.transition(
            job.id,
            to=JobState.DONE,
            expect=(JobState.DELIVERING,),
            now=time.time(),
            owner=self._owner,
            result_message_id=first,
        ):
            await self._notifier.remove_status(job)
        logger.info("delivered (%d Telegram messages sent or edited)", self._notifier.spent(job))

    async def patiently(self, send: Callable[[], Awaitable[T]]) -> T:
        """Send to Telegram; while it is unreachable, try again later, then give up."""
        for delay in self._timing.redelivery_delays:
            try:
                return await send()
            except _TELEGRAM_UNREACHABLE as e:
                logger.warning(
                    "delivery failed (%s); trying again in %.0f s", type(e).__name__, delay
                )
                await asyncio.sleep(delay)
        return await send()

    async def fail(
        self, job: JobRecord, state: JobState, code: str, *, text: str | None = None
    ) -> None:
        if not await self._jobs.transition(
            job.id, to=state, expect=UNFINISHED, now=time.time(), owner=self._owner, error=code
        ):
            return  # already cancelled or finished: nothing more to say
        await self.tell(job, text or code_text(code, provider=display_name(job.provider)))

    async def tell(
        self,
        job: JobRecord,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        patiently: bool = False,
    ) -> int | None:
        """Show a job's outcome: the id of the message that shows it, or None when Telegram
        would not (failing here ends nothing more). `patiently` waits out an unreachable
        Telegram on the redelivery schedule."""

        def show() -> Awaitable[int]:
            return self._notifier.tell(job, text, reply_markup=reply_markup)

        try:
            return await (self.patiently(show) if patiently else show())
        except TelegramForbiddenError:
            await self.blocked(job)
        except TelegramAPIError as e:
            logger.warning("could not tell the user: %s", type(e).__name__)
        return None

    async def blocked(self, job: JobRecord) -> None:
        """Telegram says the user blocked the bot: nothing more is sent to them until they write."""
        logger.info("user %d blocked the bot", job.user_id)
        await self._users.set_active(job.user_id, active=False)

    async def interrupt(self, job: JobRecord) -> bool:
        """A paid call was in flight when the process died: never re-sent, the user decides.
        False when the job had moved on meanwhile."""
        if not await self._jobs.transition(
            job.id,
            to=JobState.INTERRUPTED,
            expect=(JobState.SUBMITTING,),
            now=time.time(),
            owner=self._owner,
            error="interrupted",
        ):
            return False
        with job_context(job.id):
            logger.info("interrupted before its task id was known")
        return True

    async def tell_interrupted(self, job: JobRecord) -> None:
        """Tell the user, with a Retry button, waiting out an unreachable Telegram; until the
        notice is shown, every start tries again."""
        with job_context(job.id), self._i18n.context(), self._i18n.use_locale(job.language):
            shown = await self.tell(
                job, interrupted_text(job), reply_markup=retry_keyboard(job.id), patiently=True
            )
        self._notifier.spent(job)
        if shown is not None:
            await self._jobs.set_result_message(job.id, shown)
