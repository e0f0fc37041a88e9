"""Paid calls in flight: a graceful stop gives them time to record their outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from bot.storage.jobs import JobRecord

logger = logging.getLogger(__name__)


class PaidCalls:
    """The jobs whose paid provider call (and the recording of its outcome) is under way."""

    def __init__(self) -> None:
        self._in_flight: dict[int, asyncio.Event] = {}

    @asynccontextmanager
    async def call(self, job: JobRecord) -> AsyncIterator[None]:
        """A paid call and the recording of its outcome, which settle() waits for."""
        done = asyncio.Event()
        self._in_flight[job.id] = done
        try:
            yield
        finally:
            done.set()
            del self._in_flight[job.id]

    async def settle(self, grace: float) -> None:
        """Wait up to `grace` seconds for the paid calls in flight to finish."""
        waits = [event.wait() for event in self._in_flight.values()]
        if waits:
            logger.info("waiting for %d paid calls in flight", len(waits))
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), grace)
