"""Each user's jobs take turns: a few run at once, the others wait in order and show their place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from aiogram.exceptions import TelegramAPIError

from bot.jobs.notifier import Notifier
from bot.jobs.texts import waiting_text, working_text
from bot.storage.jobs import JobRecord


@dataclass(eq=False, slots=True)
class _Waiter:
    job: JobRecord
    admitted: bool = False


@dataclass(slots=True)
class _Line:
    """One user's running jobs and the ones waiting behind them."""

    running: int = 0
    waiting: list[_Waiter] = field(default_factory=list)
    version: int = 0
    """Bumped whenever the line moves, so a waiter never misses a change."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def moved(self) -> None:
        self.version += 1
        old, self.changed = self.changed, asyncio.Event()
        old.set()


class UserQueues:
    """At most `slots` jobs of one user run at once; the others wait first come, first served."""

    def __init__(self, slots: int) -> None:
        self._slots = slots
        self._lines: dict[int, _Line] = {}
        self.running = 0
        """Jobs holding a slot, across users."""
        self.waiting = 0
        """Jobs waiting for a slot, across users (the queue depth)."""

    def status_text(self, job: JobRecord) -> str:
        """What a new job's status message says: working, or its place in line."""
        line = self._lines.get(job.user_id)
        if line is None or (line.running < self._slots and not line.waiting):
            return working_text(job, 0)
        return waiting_text(len(line.waiting) + 1)

    @asynccontextmanager
    async def turn(self, job: JobRecord, notifier: Notifier) -> AsyncIterator[None]:
        """Hold one of the user's slots for the block, waiting in line for it if need be."""
        line = self._lines.setdefault(job.user_id, _Line())
        waited = line.running >= self._slots or bool(line.waiting)
        if waited:
            await self._wait(line, job, notifier)
        else:
            line.running += 1
            self.running += 1
        try:
            if waited:
                await _show(notifier, job, working_text(job, 0))
            yield
        finally:
            self._release(job.user_id, line)

    async def _wait(self, line: _Line, job: JobRecord, notifier: Notifier) -> None:
        waiter = _Waiter(job)
        line.waiting.append(waiter)
        self.waiting += 1
        shown, seen = len(line.waiting), line.version
        try:
            while not waiter.admitted:
                if line.version == seen:
                    await line.changed.wait()
                seen = line.version
                if not waiter.admitted and (place := line.waiting.index(waiter) + 1) != shown:
                    shown = place
                    await _show(notifier, job, waiting_text(place))
        except BaseException:
            if waiter.admitted:
                self._release(job.user_id, line)
            else:
                line.waiting.remove(waiter)
                self.waiting -= 1
                line.moved()
                self._drop_if_empty(job.user_id, line)
            raise

    def _release(self, user_id: int, line: _Line) -> None:
        line.running -= 1
        self.running -= 1
        if line.waiting:
            first = line.waiting.pop(0)
            first.admitted = True
            line.running += 1
            self.running += 1
            self.waiting -= 1
        line.moved()
        self._drop_if_empty(user_id, line)

    def _drop_if_empty(self, user_id: int, line: _Line) -> None:
        if not line.running and not line.waiting:
            self._lines.pop(user_id, None)


async def _show(notifier: Notifier, job: JobRecord, text: str) -> None:
    """A status change while waiting: decoration, so Telegram's refusals end nothing."""
    with suppress(TelegramAPIError):
        await notifier.update_status(job, text)
