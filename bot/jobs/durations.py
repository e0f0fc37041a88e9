"""Each provider's usual job time, learned from its recent results, for the poll schedule."""

from __future__ import annotations

import logging
import statistics
from collections import deque
from collections.abc import Iterable

from bot.storage.interfaces import Jobs

logger = logging.getLogger(__name__)

RECENT_RESULTS = 50
"""Results per provider the usual time is the median of: enough to shrug off outliers, few
enough to follow a provider that got faster or slower within a day."""


class ProviderDurations:
    """How long each provider's recent jobs took, submit to result: read from the database once
    at start, then kept up to date in memory as results are found."""

    def __init__(self, jobs: Jobs, *, window: int = RECENT_RESULTS) -> None:
        self._jobs = jobs
        self._window = window
        self._recent: dict[str, deque[float]] = {}

    @classmethod
    async def load(
        cls, jobs: Jobs, providers: Iterable[str], *, window: int = RECENT_RESULTS
    ) -> ProviderDurations:
        """The recent results of each of `providers`, as stored."""
        durations = cls(jobs, window=window)
        for provider in providers:
            for seconds in reversed(await jobs.recent_durations(provider, limit=window)):
                durations._add(provider, seconds)
            usual = durations.usual(provider)
            if usual is not None:
                logger.info("%s usually takes %.1f s", provider, usual)
        return durations

    def usual(self, provider: str) -> float | None:
        """The median of the provider's recent job times; None before its first result."""
        recent = self._recent.get(provider)
        return statistics.median(recent) if recent else None

    async def learn(self, provider: str, job_id: int) -> None:
        """Count a job whose result was just found (its times as stored)."""
        seconds = await self._jobs.duration(job_id)
        if seconds is not None:
            self._add(provider, seconds)

    def _add(self, provider: str, seconds: float) -> None:
        recent = self._recent.setdefault(provider, deque(maxlen=self._window))
        recent.append(max(seconds, 0.0))  # the wall clock may have been set back meanwhile
