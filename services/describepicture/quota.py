"""The provider's hourly quota per appId, counted locally in a QuotaStore."""

from __future__ import annotations

import bisect
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from services.describepicture.credential import PROVIDER
from services.exceptions import QuotaExceededError

logger = logging.getLogger(__name__)

HOURLY_LIMIT = 100
"""Requests per hour per appId, as the document states."""


class QuotaStore(Protocol):
    """Where request times are counted per key; a database backs it so counts survive restarts."""

    async def try_acquire(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """Atomically record a hit at `now` if fewer than `limit` are in (now-window, now]: None.

        Otherwise record nothing and return the epoch time a slot frees (when the hit that
        must leave for one to free leaves the window).
        """

    async def next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """When a slot frees if `limit` hits are in the window, else None; records nothing."""

    async def used(self, key: str, *, now: float, window: float) -> int:
        """How many hits are in (now-window, now]."""


class MemoryQuotaStore:
    """A QuotaStore in process memory, lost on restart; hits kept sorted and pruned per key."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    async def try_acquire(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """Record a hit at `now` unless `limit` are in the window; else when a slot frees."""
        # No await between the check and the insert: atomic within the event loop.
        free_at = self._next_free(key, now=now, window=window, limit=limit)
        if free_at is None:
            # Sorted insert: a clock stepped back must not leave an old hit behind a newer one.
            bisect.insort(self._hits.setdefault(key, deque()), now)
        return free_at

    async def next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """The epoch time a slot frees if `limit` hits are in the window, else None."""
        return self._next_free(key, now=now, window=window, limit=limit)

    async def used(self, key: str, *, now: float, window: float) -> int:
        """How many hits are in (now-window, now]."""
        return len(self._pruned(key, now=now, window=window))

    def _next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        if limit < 1:
            raise ValueError("a quota limit must be at least 1")
        hits = self._pruned(key, now=now, window=window)
        if len(hits) < limit:
            return None
        # With more hits than the limit (it was lowered), several must leave before one frees.
        return hits[len(hits) - limit] + window

    def _pruned(self, key: str, *, now: float, window: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits


class HourlyQuota:
    """The provider's per-appId hourly quota counted locally, so the 101st call is never sent.

    A sliding window: the provider does not say whether its hour is fixed or rolling, and a
    rolling one never lets more than `limit` through in any `window` seconds.
    """

    def __init__(
        self,
        store: QuotaStore,
        *,
        limit: int = HOURLY_LIMIT,
        window: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("the quota needs a limit of at least 1 and a positive window")
        self.store = store
        self.limit = limit
        self.window = window
        self._clock = clock

    async def acquire(self, app_id: str) -> None:
        """Count one request for `app_id`, or raise QuotaExceededError with when a slot frees."""
        free_at = await self.store.try_acquire(
            _quota_key(app_id), now=self._clock(), window=self.window, limit=self.limit
        )
        if free_at is None:
            return
        reset_at = datetime.fromtimestamp(free_at, UTC)
        logger.info("%s local quota of %d per window used up", PROVIDER, self.limit)
        raise QuotaExceededError(
            f"{self.limit} requests per hour used up; the next one is allowed at "
            f"{reset_at:%Y-%m-%d %H:%M:%S} UTC",
            provider=PROVIDER,
            reset_at=reset_at,
        )

    async def used(self, app_id: str) -> int:
        """Requests counted for `app_id` in the current window."""
        return await self.store.used(_quota_key(app_id), now=self._clock(), window=self.window)

    async def reset_at(self, app_id: str) -> datetime | None:
        """When a slot frees for `app_id` if the local count is full, else None."""
        free_at = await self.store.next_free(
            _quota_key(app_id), now=self._clock(), window=self.window, limit=self.limit
        )
        return None if free_at is None else datetime.fromtimestamp(free_at, UTC)


def _quota_key(app_id: str) -> str:
    """The store key of an appId: a hash, so the database never holds the appId in clear."""
    return hashlib.sha256(app_id.encode()).hexdigest()
