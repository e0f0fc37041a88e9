"""The job runner: runs each stored job to its end, within limits; resumes them after restarts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.choices import KEYS_DEEP_LINK
from bot.error_texts import code_text, error_code, error_text
from bot.imaging import ImageWorkers
from bot.jobs.delivery import RESULT_RETENTION, Delivery, reply_to
from bot.jobs.limits import Limits
from bot.jobs.timing import Timing
from bot.keyboards import cancel_keyboard, deep_link_keyboard, retry_keyboard
from bot.keychain import KeyChain, ResolvedCredential
from bot.logs import job_context, origin
from bot.providers import display_name
from bot.storage import Storage
from bot.storage.credits import OPERATOR
from bot.storage.jobs import UNFINISHED, JobKind, JobRecord, JobState, NewJob
from bot.telegram import edit_text
from services.base import GeneratedImage, ImageGenerator, Turn
from services.exceptions import (
    OutcomeUnknownError,
    RateLimitedError,
    ServiceError,
    UnavailableError,
    UnexpectedResponseError,
)
from services.registry import Providers

logger = logging.getLogger(__name__)

T = TypeVar("T")

UNREADABLE_POLLS = 3
"""Unreadable poll answers in a row that end a job: one may be a proxy's hiccup, three are not."""

_TELEGRAM_UNREACHABLE = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)
"""Telegram failures that pass: a result is kept and sent again later, never dropped."""

Deliver = Callable[[], Awaitable[None]]
"""Sends a job's obtained result to its chat; may be called again after a failure."""


class NoCredentialError(Exception):
    """Neither the user nor the operator has a credential for the job's provider."""


class JobRunner:
    """Owns every running job: limits, deadline, progress, delivery, cancel and resume."""

    def __init__(
        self,
        *,
        bot: Bot,
        storage: Storage,
        providers: Providers,
        keychain: KeyChain,
        i18n: I18n,
        results_dir: Path,
        job_timeout: float,
        daily_limit: int,
        limits: Limits,
        images: ImageWorkers,
        timing: Timing | None = None,
    ) -> None:
        self._bot = bot
        self._jobs = storage.jobs
        self._users = storage.users
        self._credits = storage.credits
        self._providers = providers
        self._keychain = keychain
        self._i18n = i18n
        self._job_timeout = job_timeout
        self._daily_limit = daily_limit
        self._limits = limits
        self._timing = timing or Timing()
        self._images = images
        self._delivery = Delivery(
            bot=bot, jobs=storage.jobs, results_dir=results_dir, images=images
        )
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._per_user: Counter[int] = Counter()
        """Jobs of each user with a task here, running or waiting for a slot."""
        self._paid_calls: dict[int, asyncio.Event] = {}
        self._notices: set[asyncio.Task[None]] = set()
        """Interrupted jobs' notices being sent (patiently, while Telegram is unreachable)."""
        self._waiting = 0
        self._started = False
        self._stopping = asyncio.Event()

    def result_file(self, job: JobRecord) -> Path | None:
        """Where a job's untouched result image is kept, if it has one."""
        return self._delivery.result_file(job)

    @property
    def started(self) -> bool:
        """True once start() has resumed the stored jobs."""
        return self._started

    @property
    def stopping(self) -> bool:
        """True once stop() has begun: no new provider call starts."""
        return self._stopping.is_set()

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot of their user (the queue depth)."""
        return self._waiting

    @property
    def running(self) -> int:
        """Jobs with a task in this process (running or waiting for a slot)."""
        return len(self._tasks)

    @property
    def uploads_waiting(self) -> int:
        """Results kept and waiting for a slot to be sent to Telegram."""
        return self._delivery.uploads_waiting

    @property
    def idle(self) -> bool:
        """No job task and no interrupted job's notice in flight."""
        return not self._tasks and not self._notices

    async def start(self) -> None:
        """Resume every unfinished job from the database; drop result files past retention."""
        self._started = True
        pruned = await self._delivery.prune_results(now=time.time())
        if pruned:
            logger.info("removed %d result files past retention", pruned)
        for job in await self._jobs.unfinished():
            if job.state is JobState.SUBMITTING:
                await self._interrupt(job)
            else:
                with job_context(job.id):
                    logger.info("resuming in state %s", job.state)
                self._spawn(job)
        # Also those of earlier starts whose notice Telegram did not take (it was down).
        since = time.time() - RESULT_RETENTION
        for job in await self._jobs.untold_interruptions(since=since):
            task = asyncio.create_task(self._tell_interrupted(job), name=f"job-{job.id}-notice")
            self._notices.add(task)
            task.add_done_callback(self._notices.discard)

    async def stop(self, *, grace: float = 8.0) -> None:
        """Stop every job task; their states stay as stored, for the next start.

        A paid call in flight gets up to `grace` seconds to finish and record its outcome (the
        task id, the answer), so the next start resumes it instead of reporting it interrupted.
        """
        self._stopping.set()
        in_flight = [event.wait() for event in self._paid_calls.values()]
        if in_flight:
            logger.info("waiting for %d paid calls in flight", len(in_flight))
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*in_flight), grace)
        tasks = [*self._tasks.values(), *self._notices]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def enqueue(self, new: NewJob, *, repeat: bool = False) -> JobRecord | None:
        """Store a job, show its status message and start it; or tell the user why not (None).

        A request message starts one job only (Telegram re-sends updates after a crash), unless
        `repeat` says the user asked again (🔁, Retry). Jobs on the operator's keys count against
        OPERATOR_DAILY_LIMIT.
        """
        if not repeat and new.request_message_id is not None:
            existing = await self._jobs.for_request(new.chat_id, new.request_message_id)
            if existing is not None:
                with job_context(existing.id):
                    logger.info("its request arrived again; not started twice")
                return existing
        if new.credential_source == "operator" and not await self._within_daily_limit(new):
            return None
        job = await self._jobs.create(new, now=time.time())
        with self._i18n.context(), self._i18n.use_locale(job.language):
            waiting = self._per_user[job.user_id] >= self._limits.user_max_jobs
            text = _waiting_text() if waiting else _working_text(job, 0)
            message = await self._bot.send_message(
                chat_id=job.chat_id,
                text=text,
                reply_markup=cancel_keyboard(job.id),
                reply_parameters=self._delivery.reply_to(job),
            )
        await self._jobs.set_status_message(job.id, message.message_id)
        job = replace(job, status_message_id=message.message_id)
        with job_context(job.id):
            logger.info("%s on %s queued", job.kind, job.provider)
        self._spawn(job)
        return job

    async def _within_daily_limit(self, new: NewJob) -> bool:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        used = await self._jobs.operator_jobs(new.user_id, since=midnight.timestamp())
        if used < self._daily_limit:
            return True
        logger.info("user %d reached the daily limit on the operator's keys", new.user_id)
        with self._i18n.context(), self._i18n.use_locale(new.language):
            text = ngettext(
                "You have used today's {limit} job on the bot's shared keys. Add your own key "
                "for more, or come back after 00:00 UTC.",
                "You have used today's {limit} jobs on the bot's shared keys. Add your own key "
                "for more, or come back after 00:00 UTC.",
                self._daily_limit,
            ).format(limit=self._daily_limit)
            keyboard = deep_link_keyboard(await create_start_link(self._bot, KEYS_DEEP_LINK))
            await self._bot.send_message(
                chat_id=new.chat_id,
                text=text,
                reply_markup=keyboard,
                reply_parameters=reply_to(new.request_message_id),
            )
        return False

    async def cancel(self, job: JobRecord) -> bool:
        """Cancel an unfinished job: its polling stops and a late result is dropped."""
        if not await self._jobs.transition(
            job.id, to=JobState.CANCELLED, expect=UNFINISHED, now=time.time()
        ):
            return False
        task = self._tasks.get(job.id)
        if task is not None:
            task.cancel()
        with job_context(job.id):
            logger.info("cancelled")
        if job.status_message_id is not None:
            with self._i18n.context(), self._i18n.use_locale(job.language):
                await edit_text(
                    self._bot,
                    chat_id=job.chat_id,
                    message_id=job.status_message_id,
                    text=_("✖️ Cancelled."),
                )
        return True

    def _spawn(self, job: JobRecord) -> None:
        task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
        self._tasks[job.id] = task
        self._per_user[job.user_id] += 1
        task.add_done_callback(lambda _: self._forget(job))

    def _forget(self, job: JobRecord) -> None:
        self._tasks.pop(job.id, None)
        self._per_user[job.user_id] -= 1
        if self._per_user[job.user_id] <= 0:
            del self._per_user[job.user_id]

    async def _run(self, job: JobRecord) -> None:
        # Every log line of this task, the services' included, carries the job id.
        with job_context(job.id), self._i18n.context(), self._i18n.use_locale(job.language):
            try:
                self._waiting += 1
                slot = self._limits.user(job.user_id)
                try:
                    await slot.acquire()
                finally:
                    self._waiting -= 1
                async with _holding(slot):
                    current = await self._jobs.get(job.id)
                    if current is None or current.state not in UNFINISHED:
                        return  # cancelled while it waited for a slot
                    # The deadline bounds the provider, not Telegram: a result once obtained
                    # is delivered however long Telegram makes it wait.
                    async with self._progress(current), asyncio.timeout(self._job_timeout):
                        if current.kind is JobKind.GENERATE:
                            deliver = await self._generate(current)
                        else:
                            deliver = await self._describe(current)
                    if deliver is not None:
                        await self._deliver_patiently(deliver)
            except TimeoutError:
                stored = await self._jobs.get(job.id)
                # Cut short while a paid call was in flight: the provider may have taken it.
                paid = stored is not None and stored.state is JobState.SUBMITTING
                await self._fail(job, JobState.TIMED_OUT, "outcome_unknown" if paid else "timeout")
            except NoCredentialError:
                await self._fail(job, JobState.FAILED, "auth")
            except ServiceError as e:
                logger.info("%s failed: %s", job.provider, error_code(e))
                await self._fail(job, JobState.FAILED, error_code(e), text=error_text(e))
            except TelegramForbiddenError:
                await self._blocked(job)
                await self._jobs.transition(
                    job.id, to=JobState.FAILED, expect=UNFINISHED, now=time.time(), error="blocked"
                )
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - every job ends with a word to its user
                logger.error("unexpected failure: %s", origin(e))
                await self._fail(job, JobState.FAILED, "internal")

    async def _generate(self, job: JobRecord) -> Deliver | None:
        """Obtain and keep the image (None when stopped or cancelled on the way)."""
        generator = self._providers.generators[job.provider]
        if job.state is JobState.DELIVERING and await self._delivery.has_result(job):
            return partial(self._delivery.deliver_image, job)
        resolved = await self._credential(job)
        if job.task_id is None:
            if self._stopping.is_set() or not await self._to(
                job, JobState.SUBMITTING, expect=(JobState.QUEUED,), started=True
            ):
                return None
            async with self._paid_call(job):
                async with self._limits.provider(job.provider, resolved.credential):
                    try:
                        submission = await generator.submit(
                            resolved.credential, prompt=job.prompt, options=job.options
                        )
                    except UnexpectedResponseError as e:
                        # It answered, but not readably: whether it took the job is unknown.
                        raise OutcomeUnknownError(
                            "the answer to a paid call could not be read", provider=job.provider
                        ) from e
                logger.info("%s task %s", job.provider, submission.task_id)
                await self._record_credits(job, resolved, submission.credits)
                if not await self._to(
                    job,
                    JobState.POLLING,
                    expect=(JobState.SUBMITTING,),
                    task_id=submission.task_id,
                ):
                    return None  # cancelled while the provider accepted it: the result is dropped
            if self._stopping.is_set():
                return None  # the task id is stored: the next start polls on
            job = replace(job, task_id=submission.task_id, state=JobState.POLLING)
        image = await self._poll(job, generator, resolved)
        credits = image.credits
        stored = await self._delivery.write_result(job, image)
        # The file holds the bytes now: results waiting for the database must not hold them too.
        del image
        await self._record_credits(job, resolved, credits)
        delivering = await self._delivery.mark_delivering(job, stored)
        if delivering is None:
            return None
        return partial(self._delivery.deliver_image, delivering)

    async def _poll(
        self, job: JobRecord, generator: ImageGenerator[Any], resolved: ResolvedCredential
    ) -> GeneratedImage:
        assert job.task_id is not None
        unreadable = 0
        for delay in self._timing.poll_schedule():
            await asyncio.sleep(delay)
            try:
                async with self._limits.provider(job.provider, resolved.credential):
                    result = await generator.poll(resolved.credential, task_id=job.task_id)
            except (UnavailableError, RateLimitedError) as e:
                # The job is paid for; a passing outage must not lose it. The deadline bounds this.
                logger.info("poll failed (%s); polling on", error_code(e))
                continue
            except UnexpectedResponseError:
                unreadable += 1
                if unreadable >= UNREADABLE_POLLS:
                    raise
                logger.info("poll answer unreadable; polling on")
                continue
            unreadable = 0
            if isinstance(result, GeneratedImage):
                return result
        raise AssertionError("unreachable: the schedule never ends")  # pragma: no cover

    async def _describe(self, job: JobRecord) -> Deliver | None:
        """Obtain and keep the answer (None when stopped or cancelled on the way)."""
        if job.state is JobState.DELIVERING and job.result_text is not None:
            return partial(self._delivery.deliver_answer, job, job.result_text)
        describer = self._providers.describers[job.provider]
        resolved = await self._credential(job)
        conversation = await self._conversation(job)
        assert job.input_file_id is not None
        # Handed to the provider's client, not kept here: the client holds the photo only until
        # its request body is built (a thousand describe jobs in flight, a thousand photos).
        photo = [await self._delivery.download_input(job.input_file_id)]
        # Not an image: refused before the job counts as started (or against any limit).
        await self._images.inspect(photo[0])
        if self._stopping.is_set() or not await self._to(
            job, JobState.SUBMITTING, expect=(JobState.QUEUED,), started=True
        ):
            return None
        async with self._paid_call(job):
            async with self._limits.provider(job.provider, resolved.credential):
                description = await describer.describe(
                    resolved.credential, image=photo.pop(), conversation=conversation
                )
            await self._record_credits(job, resolved, description.credits)
            if not await self._to(
                job,
                JobState.DELIVERING,
                expect=(JobState.SUBMITTING,),
                result_text=description.text,
            ):
                return None
        if self._stopping.is_set():
            return None  # the answer is stored: the next start delivers it without paying again
        notice = None
        if description.image_resized:
            notice = _("(The photo was too large for {provider}, so it got a smaller copy.)")
            notice = notice.format(provider=display_name(job.provider))
        return partial(self._delivery.deliver_answer, job, description.text, notice=notice)

    async def _deliver_patiently(self, deliver: Callable[[], Awaitable[T]]) -> T:
        """Send the kept result; while Telegram is unreachable, try again later, then give up."""
        for delay in self._timing.redelivery_delays:
            try:
                return await deliver()
            except _TELEGRAM_UNREACHABLE as e:
                wait = max(delay, e.retry_after if isinstance(e, TelegramRetryAfter) else 0)
                logger.warning(
                    "delivery failed (%s); trying again in %.0f s", type(e).__name__, wait
                )
                await asyncio.sleep(wait)
        return await deliver()

    async def _conversation(self, job: JobRecord) -> list[Turn]:
        """The questions and answers about this photo so far, ending with this question."""
        turns: list[Turn] = []
        if job.parent_id is not None:
            for earlier in await self._jobs.thread(job.parent_id):
                if earlier.result_text:  # a question that got no answer is left out
                    turns += [Turn("user", earlier.prompt), Turn("model", earlier.result_text)]
        return [*turns, Turn("user", job.prompt)]

    async def _record_credits(
        self, job: JobRecord, resolved: ResolvedCredential, credits: int | None
    ) -> None:
        if credits is None:
            return
        owner = job.user_id if resolved.source == "own" else OPERATOR
        await self._credits.record(owner, job.provider, credits)

    async def _credential(self, job: JobRecord) -> ResolvedCredential:
        resolved = await self._keychain.resolve(job.user_id, job.provider)
        if resolved is None:
            raise NoCredentialError(job.provider)
        return resolved

    async def _to(
        self,
        job: JobRecord,
        state: JobState,
        *,
        expect: tuple[JobState, ...],
        started: bool = False,
        **fields: str | int | float | None,
    ) -> bool:
        now = time.time()
        if started:  # a provider call is about to be made
            fields["started_at"] = now
            fields["attempts"] = job.attempts + 1
        return await self._jobs.transition(job.id, to=state, expect=expect, now=now, **fields)

    async def _fail(
        self, job: JobRecord, state: JobState, code: str, *, text: str | None = None
    ) -> None:
        if not await self._jobs.transition(
            job.id, to=state, expect=UNFINISHED, now=time.time(), error=code
        ):
            return  # already cancelled or finished: nothing more to say
        message = text or code_text(code, provider=display_name(job.provider))
        await self._tell(job, message)

    async def _tell(
        self,
        job: JobRecord,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        patiently: bool = False,
    ) -> int | None:
        """Show a job's outcome in its status message: the id of the message that shows it, or
        None when Telegram would not (failing here ends nothing more). `patiently` waits out an
        unreachable Telegram on the redelivery schedule."""
        show = partial(self._delivery.replace_status, job, text, reply_markup=reply_markup)
        try:
            return await (self._deliver_patiently(show) if patiently else show())
        except TelegramForbiddenError:
            await self._blocked(job)
        except TelegramAPIError as e:
            logger.warning("could not tell the user: %s", type(e).__name__)
        return None

    async def _blocked(self, job: JobRecord) -> None:
        """Telegram says the user blocked the bot: nothing more is sent to them until they write."""
        logger.info("user %d blocked the bot", job.user_id)
        await self._users.set_active(job.user_id, active=False)

    async def _interrupt(self, job: JobRecord) -> None:
        """A paid call was in flight when the process died: never re-sent, the user decides."""
        if await self._jobs.transition(
            job.id,
            to=JobState.INTERRUPTED,
            expect=(JobState.SUBMITTING,),
            now=time.time(),
            error="interrupted",
        ):
            with job_context(job.id):
                logger.info("interrupted before its task id was known")

    async def _tell_interrupted(self, job: JobRecord) -> None:
        """Tell the user, with a Retry button, waiting out an unreachable Telegram; until the
        notice is shown, every start tries again."""
        with job_context(job.id), self._i18n.context(), self._i18n.use_locale(job.language):
            text = _(
                "⚠️ This job was interrupted by a restart before {provider} confirmed it, "
                "so nothing was delivered. Tap Retry to send it again."
            ).format(provider=display_name(job.provider))
            shown = await self._tell(job, text, reply_markup=retry_keyboard(job.id), patiently=True)
        if shown is not None:
            await self._jobs.set_result_message(job.id, shown)

    @asynccontextmanager
    async def _paid_call(self, job: JobRecord) -> AsyncIterator[None]:
        """A paid call and the recording of its outcome, which a graceful stop waits for."""
        done = asyncio.Event()
        self._paid_calls[job.id] = done
        try:
            yield
        finally:
            done.set()
            del self._paid_calls[job.id]

    @asynccontextmanager
    async def _progress(self, job: JobRecord) -> AsyncIterator[None]:
        task = asyncio.create_task(self._report_progress(job), name=f"job-{job.id}-progress")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _report_progress(self, job: JobRecord) -> None:
        started = time.monotonic()
        action = "upload_photo" if job.kind is JobKind.GENERATE else "typing"
        next_action, next_edit = started, started + self._timing.progress_every
        status_id = job.status_message_id
        while True:
            now = time.monotonic()
            try:
                if now >= next_action:
                    next_action = now + self._timing.action_every
                    await self._bot.send_chat_action(chat_id=job.chat_id, action=action)
                if status_id is not None and now >= next_edit:
                    next_edit = now + self._timing.progress_every
                    alive = await edit_text(
                        self._bot,
                        chat_id=job.chat_id,
                        message_id=status_id,
                        text=_working_text(job, int(now - started)),
                        reply_markup=cancel_keyboard(job.id),
                    )
                    status_id = status_id if alive else None
            except TelegramAPIError as e:
                # Progress is decoration: a failure here must never fail the job itself.
                logger.debug("progress update failed: %s", type(e).__name__)
            wake = next_action if status_id is None else min(next_action, next_edit)
            await asyncio.sleep(max(0.0, wake - time.monotonic()))


def _working_text(job: JobRecord, seconds: int) -> str:
    provider = display_name(job.provider)
    if job.kind is JobKind.GENERATE:
        return _("🎨 Generating with {provider}… {seconds} s").format(
            provider=provider, seconds=seconds
        )
    return _("🔎 Looking at the photo with {provider}… {seconds} s").format(
        provider=provider, seconds=seconds
    )


def _waiting_text() -> str:
    return _("⏳ Waiting for your other jobs to finish…")


@asynccontextmanager
async def _holding(slot: asyncio.Semaphore) -> AsyncIterator[None]:
    """Release a semaphore already acquired when the block ends."""
    try:
        yield
    finally:
        slot.release()
