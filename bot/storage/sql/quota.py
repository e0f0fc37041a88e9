"""Per-key request counts over a sliding window, in the database so restarts keep them."""

from __future__ import annotations

from bot.storage.interfaces import SqlDatabase, Statements
from bot.storage.sql.locks import quota_lock


class SqlQuotaStore:
    """A `services.describepicture.QuotaStore` in the quota_hits table."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def try_acquire(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """Record a hit at `now` unless `limit` are in the window; else when a slot frees."""
        _check(limit)
        async with self._db.transaction(quota_lock(key)) as tx:
            # Hits that left the window are never counted again: drop them as we go.
            await tx.execute(
                "DELETE FROM quota_hits WHERE key = ? AND at <= ?", (key, now - window)
            )
            free_at = await _next_free(tx, key, now=now, window=window, limit=limit)
            if free_at is None:
                await tx.execute("INSERT INTO quota_hits (key, at) VALUES (?, ?)", (key, now))
        return free_at

    async def next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """The epoch time a slot frees if `limit` hits are in the window, else None."""
        _check(limit)
        return await _next_free(self._db, key, now=now, window=window, limit=limit)

    async def used(self, key: str, *, now: float, window: float) -> int:
        """How many hits are in the window ending at `now`."""
        row = await self._db.fetchone(
            "SELECT count(*) FROM quota_hits WHERE key = ? AND at > ?", (key, now - window)
        )
        return int(row[0]) if row is not None else 0


async def _next_free(
    source: Statements, key: str, *, now: float, window: float, limit: int
) -> float | None:
    """When the hit that must leave for a slot to free leaves the window; None if one is free.

    Hits stamped after `now` (the clock stepped back) still count, as in MemoryQuotaStore: a
    clock change must never let more requests through than the provider allows.
    """
    rows = await source.fetchall(
        "SELECT at FROM quota_hits WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
        (key, now - window, limit),
    )
    if len(rows) < limit:
        return None
    # The limit-th newest hit: with more hits than the limit (it was lowered), several must leave.
    return float(rows[-1]["at"]) + window


def _check(limit: int) -> None:
    if limit < 1:
        raise ValueError("a quota limit must be at least 1")
