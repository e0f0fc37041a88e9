"""The job runner: the one owner of a job's state, from stored request to delivered result.

The path reads one way: a handler stores the job and hands it here; the runner takes it through
the provider (JobSteps) and has the Notifier tell Telegram, recording each step in the row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n

from bot.imaging import ImageWorkers
from bot.jobs.daily_limit import DailyLimit
from bot.jobs.durations import ProviderDurations
from bot.jobs.endings import JobEndings
from bot.jobs.files import JobFiles
from bot.jobs.leases import LeaseKeeper
from bot.jobs.limits import Limits
from bot.jobs.lines import UserLines
from bot.jobs.notifier import Notifier
from bot.jobs.paid import PaidCalls
from bot.jobs.steps import JobSteps
from bot.jobs.texts import cancelled_text
from bot.jobs.timing import Timing
from bot.keychain import KeyChain
from bot.logs import job_context
from bot.outbox import Outbox
from bot.storage import Storage
from bot.storage.jobs import UNFINISHED, JobKind, JobRecord, JobState, NewJob
from services.registry import Providers

logger = logging.getLogger(__name__)

_TELEGRAM_UNREACHABLE = (TelegramNetworkError, TelegramServerError)
"""Telegram failures that pass: a result is kept and sent again later, never dropped."""


class JobRunner:
    """Owns every running job: limits, deadline, state, cancel, retry and resume."""

    def __init__(
        self,
        *,
        bot: Bot,
        outbox: Outbox,
        storage: Storage,
        providers: Providers,
        keychain: KeyChain,
        i18n: I18n,
        job_timeout: float,
        daily_limit: int,
        limits: Limits,
        images: ImageWorkers,
        durations: ProviderDurations,
        instance: str,
        job_lease: float,
        shared: bool,
        timing: Timing | None = None,
        storage_chat_id: int | None = None,
    ) -> None:
        self._jobs = storage.jobs
        self._leases = storage.leases
        self._users = storage.users
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._i18n = i18n
        self._job_timeout = job_timeout
        self._timing = timing or Timing()
        self._files = JobFiles(bot=bot, results=storage.results)
        self._stopping = asyncio.Event()
        self._paid = PaidCalls()
        self._lines = UserLines(storage.lines, limits.user_max_jobs)
        self._keeper = LeaseKeeper(
            storage.leases,
            owner=instance,
            lease=job_lease,
            shared=shared,
            running=self._tasks.keys,
            resume=self._resume,
            stop=self._stop_task,
        )
        self._steps = JobSteps(
            owner=instance,
            storage=storage,
            providers=providers,
            keychain=keychain,
            files=self._files,
            images=images,
            limits=limits,
            timing=self._timing,
            stopping=self._stopping,
            paid_call=self._paid.call,
            durations=durations,
        )
        self.notifier = Notifier(
            bot=bot,
            outbox=outbox,
            files=self._files,
            images=images,
            timing=self._timing,
            running=lambda: self._lines.running,
            storage_chat_id=storage_chat_id,
        )
        self._daily_limit = DailyLimit(
            bot=bot, jobs=storage.jobs, notifier=self.notifier, i18n=i18n, limit=daily_limit
        )
        self._endings = JobEndings(
            storage=storage, notifier=self.notifier, timing=self._timing, i18n=i18n, owner=instance
        )
        self._notices: set[asyncio.Task[None]] = set()
        """Interrupted jobs' notices being sent (patiently, while Telegram is unreachable)."""
        self._started = False

    @property
    def started(self) -> bool:
        """True once start() has resumed the stored jobs."""
        return self._started

    @property
    def stopping(self) -> bool:
        """True once stop() has begun: no new provider call starts."""
        return self._stopping.is_set()

    def lines_moved(self, user_id: int | None) -> None:
        """Another instance's job of this user ended or took a slot (None: any user's)."""
        self._lines.wake(user_id)

    def jobs_released(self) -> None:
        """Another instance let go of its jobs (it is stopping): claim them now."""
        self._keeper.claim_soon()

    @property
    def running(self) -> int:
        """Jobs with a task in this process (running or waiting for a slot)."""
        return len(self._tasks)

    @property
    def uploads_waiting(self) -> int:
        """Results kept and waiting for a slot to be sent to Telegram."""
        return self.notifier.uploads_waiting

    @property
    def idle(self) -> bool:
        """No job task and no interrupted job's notice in flight."""
        return not self._tasks and not self._notices

    async def start(self) -> None:
        """Resume the unfinished jobs no live instance holds (all of them when this is the
        only one); drop result files past retention."""
        self._started = True
        pruned = await self._files.prune(now=time.time())
        if pruned:
            logger.info("removed %d result files past retention", pruned)
        await self._keeper.start()

    async def _resume(self, job: JobRecord) -> None:
        """A job this instance just claimed, by the restart rules: a paid call that may have
        been in flight is never re-sent (the user is told, with Retry); the rest go on."""
        if self._stopping.is_set():
            return  # held only until the keeper lets go of every job at the end of stop()
        if job.id in self._tasks:
            return  # still running here: its lease had lapsed while this process was busy
        if job.state is JobState.INTERRUPTED:
            self._notify_interrupted(job)  # an earlier notice Telegram did not take
            return
        if job.state is JobState.SUBMITTING:
            if await self._endings.interrupt(job):
                self._notify_interrupted(replace(job, state=JobState.INTERRUPTED))
            return
        with job_context(job.id):
            logger.info("resuming in state %s", job.state)
        self._spawn(job)

    def _notify_interrupted(self, job: JobRecord) -> None:
        task = asyncio.create_task(self._endings.tell_interrupted(job), name=f"job-{job.id}-notice")
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def _stop_task(self, job_id: int) -> None:
        """Stop this process's work on a job another instance holds now (or a user cancelled
        there); its row stays as that instance writes it."""
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def stop(self, *, grace: float = 8.0) -> None:
        """Stop every job task; their states stay as stored, for the next start.

        A paid call in flight gets up to `grace` seconds to finish and record its outcome (the
        task id, the answer), so the next start resumes it instead of reporting it interrupted.
        """
        self._stopping.set()
        await self._paid.settle(grace)
        tasks = [*self._tasks.values(), *self._notices]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._keeper.stop()

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
        job = await self._daily_limit.create(new, lease=self._keeper.hold())
        if job is None:
            return None
        with self._i18n.context(), self._i18n.use_locale(job.language):
            opening = await self._lines.opening(job)
            status = await self.notifier.open_status(job, opening.text)
        if status is not None:
            await self._jobs.set_status_message(job.id, status)
            job = replace(job, status_message_id=status)
        with job_context(job.id):
            logger.info("%s on %s queued", job.kind, job.provider)
        self._spawn(job, admitted=opening.admitted)
        return job

    async def retry(self, job: JobRecord, *, language: str) -> bool:
        """Retry an interrupted job as a new one; False if it was already retried or finished.

        The interrupted job is closed first, so a second press cannot start a second copy.
        """
        if not await self._jobs.transition(
            job.id,
            to=JobState.CANCELLED,
            expect=(JobState.INTERRUPTED,),
            now=time.time(),
            error="retried",
        ):
            return False
        await self.enqueue(job.again(language=language), repeat=True)
        return True

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
        with self._i18n.context(), self._i18n.use_locale(job.language):
            await self.notifier.update_status(job, cancelled_text(), final=True)
        self.notifier.spent(job)
        return True

    def _spawn(self, job: JobRecord, *, admitted: bool = False) -> None:
        task = asyncio.create_task(self._run(job, admitted), name=f"job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))

    async def _run(self, job: JobRecord, admitted: bool) -> None:
        # Every log line of this task, the services' included, carries the job id.
        with job_context(job.id), self._i18n.context(), self._i18n.use_locale(job.language):
            try:
                async with (
                    self._endings.guard(job),
                    self._lines.turn(job, self.notifier, admitted=admitted),
                ):
                    current = await self._jobs.get(job.id)
                    if current is None or current.state not in UNFINISHED:
                        return  # cancelled while it waited for its turn
                    await self._work(current)
            finally:
                self.notifier.spent(job)  # counted until the job's task ends, then forgotten

    async def _work(self, job: JobRecord) -> None:
        """Obtain the result within the deadline, then deliver it however long Telegram takes."""
        notice: str | None = None
        async with self.notifier.progress(job), asyncio.timeout(self._job_timeout):
            if job.kind is JobKind.GENERATE:
                obtained = await self._steps.generate(job)
            else:
                described = await self._steps.describe(job)
                obtained, notice = described if described is not None else (None, None)
        if obtained is not None:
            await self._endings.patiently(lambda: self._endings.deliver(obtained, notice))
