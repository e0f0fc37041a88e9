"""This instance's hold on its jobs: renewed every third of JOB_LEASE, lapsed jobs of other
instances claimed (and interrupted jobs whose users were not told yet), jobs another instance
took over (or a user cancelled there) stopped here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection

from bot.background import cancel_and_wait
from bot.jobs.files import RESULT_RETENTION
from bot.storage import DATABASE_ERRORS
from bot.storage.interfaces import JobLeases
from bot.storage.jobs import JobRecord, Lease

logger = logging.getLogger(__name__)

CLAIM_BATCH = 100
"""Lapsed jobs claimed at once; more are taken at the next round."""


class LeaseKeeper:
    """Renews, claims and lets go; the runner says what to do with claimed and lost jobs."""

    def __init__(
        self,
        leases: JobLeases,
        *,
        owner: str,
        lease: float,
        shared: bool,
        running: Callable[[], Collection[int]],
        resume: Callable[[JobRecord], Awaitable[None]],
        stop: Callable[[int], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.owner = owner
        self._leases = leases
        self._lease = lease
        self._shared = shared
        self._running = running
        self._resume = resume
        self._stop = stop
        self._clock = clock
        self._renewed_at = clock()
        self._task: asyncio.Task[None] | None = None
        self._soon = asyncio.Event()

    def hold(self) -> Lease:
        """A lease from now: what a new or claimed job of this instance is held with."""
        return Lease(self.owner, self._clock() + self._lease)

    def claim_soon(self) -> None:
        """Another instance let go of jobs: claim them now, not at the next round."""
        self._soon.set()

    async def start(self) -> None:
        """Claim what has lapsed (every unfinished job when no other instance can run any),
        then keep renewing and claiming every third of the lease."""
        await self.claim(everything=not self._shared)
        self._task = asyncio.create_task(self._run(), name="job-leases")

    async def stop(self) -> None:
        """Stop renewing and let go of every job still held, for another instance to take now."""
        await cancel_and_wait(self._task)
        with contextlib.suppress(*DATABASE_ERRORS):
            released = await self._leases.release(self.owner)
            if released:
                logger.info("let go of %d jobs for another instance", released)

    async def claim(self, *, everything: bool = False) -> int:
        """Claim lapsed jobs (or every unfinished one) and resume each; how many."""
        # A single instance starting holds all that its last run left, leases unexpired
        # included; every lease it gives from now on ends after this point, so none is
        # claimed twice.
        now = self._clock() + (self._lease if everything else 0.0)
        total = 0
        while True:
            claimed = await self._leases.claim(self.hold(), now=now, limit=CLAIM_BATCH)
            for job in claimed:
                await self._resume(job)
            total += len(claimed)
            if len(claimed) < CLAIM_BATCH:
                break
        # Interrupted jobs whose notice Telegram did not take (it was down) are told again.
        since = self._clock() - RESULT_RETENTION
        for job in await self._leases.claim_untold(self.hold(), now=now, since=since):
            await self._resume(job)
        return total

    async def renew(self) -> None:
        """Extend this instance's leases; stop here the jobs it no longer holds."""
        held = await self._leases.renew(self.hold())
        self._renewed_at = self._clock()
        running = [job_id for job_id in self._running() if job_id not in held]
        for job_id in await self._leases.gone(self.owner, running):
            logger.info("job %d is no longer this instance's: stopped here", job_id)
            self._stop(job_id)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._lease / 3):
                    await self._soon.wait()
            self._soon.clear()
            try:
                await self.renew()
                await self.claim()
            except DATABASE_ERRORS as error:
                logger.warning("could not renew job leases: %s", type(error).__name__)
                self._give_up_if_lapsing()

    def _give_up_if_lapsing(self) -> None:
        """Before another instance may claim them, stop the jobs whose lease is running out
        (alone on its database, an instance keeps them: nobody else would go on)."""
        if not self._shared or self._clock() - self._renewed_at < self._lease * 2 / 3:
            return
        for job_id in list(self._running()):
            logger.warning("job %d: its lease is lapsing unrenewed; stopped here", job_id)
            self._stop(job_id)
