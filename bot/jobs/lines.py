"""Each user's jobs take turns: a few run at once, the others wait in order and show their place.

The line lives in the database (JobLines), so it holds across instances; this process only waits
for it to move: woken at once by its own jobs ending, by PostgreSQL's notices of other
instances' jobs (`wake`), and, should a notice be lost, by looking again every RECHECK seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import NamedTuple

from aiogram.exceptions import TelegramAPIError

from bot.jobs.notifier import Notifier
from bot.jobs.texts import waiting_text, working_text
from bot.storage.interfaces import JobLines
from bot.storage.jobs import JobRecord

RECHECK = 5.0
"""Seconds a waiting job waits at most before looking at its line again."""


class Opening(NamedTuple):
    """A new job's first status, and whether it took one of its user's slots already."""

    text: str
    admitted: bool


class UserLines:
    """At most `slots` jobs of one user run at once, across instances; the others wait first
    come, first served."""

    def __init__(self, lines: JobLines, slots: int) -> None:
        self._lines = lines
        self._slots = slots
        self._moved: dict[int, set[asyncio.Event]] = {}
        """Per user, one event per job of theirs waiting here: set when the line may have moved."""
        self.running = 0
        """Jobs of this process holding a slot."""

    def wake(self, user_id: int | None = None) -> None:
        """The user's line may have moved (None: any user's)."""
        users = list(self._moved) if user_id is None else [user_id]
        for user in users:
            for moved in self._moved.get(user, ()):
                moved.set()

    async def opening(self, job: JobRecord) -> Opening:
        """Admit a new job if a slot is free; its status says working, or its place."""
        if await self._lines.admit(job, slots=self._slots):
            return Opening(working_text(job, 0), admitted=True)
        return Opening(waiting_text(await self._lines.place(job) or 1), admitted=False)

    @asynccontextmanager
    async def turn(
        self, job: JobRecord, notifier: Notifier, *, admitted: bool = False
    ) -> AsyncIterator[None]:
        """Hold one of the user's slots for the block (`admitted`: taken at its opening),
        waiting in line for it if need be."""
        if not admitted and not await self._lines.admit(job, slots=self._slots):
            await self._wait(job, notifier)
            await _show(notifier, job, working_text(job, 0))
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self.wake(job.user_id)

    async def _wait(self, job: JobRecord, notifier: Notifier) -> None:
        """Until the job is admitted, or no longer waits (cancelled meanwhile)."""
        shown = await self._lines.place(job)
        moved = asyncio.Event()
        waiting = self._moved.setdefault(job.user_id, set())
        waiting.add(moved)
        try:
            while True:
                moved.clear()
                if await self._lines.admit(job, slots=self._slots):
                    return
                place = await self._lines.place(job)
                if place is None:
                    return
                if place != shown:
                    shown = place
                    await _show(notifier, job, waiting_text(place))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RECHECK):
                        await moved.wait()
        finally:
            waiting.discard(moved)
            if not waiting:
                self._moved.pop(job.user_id, None)


async def _show(notifier: Notifier, job: JobRecord, text: str) -> None:
    """A status change while waiting: decoration, so Telegram's refusals end nothing."""
    with suppress(TelegramAPIError):
        await notifier.update_status(job, text)
