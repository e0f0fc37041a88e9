"""Rate-limit hits and album claims in the database, for instances that share it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from bot.rate_hits import RateVerdict
from bot.storage.interfaces import SqlDatabase
from bot.storage.sql.locks import user_lock

SWEEP_EVERY = 60.0
"""Seconds between an instance's sweeps of rate-limit rows past the window."""
ALBUM_CLAIM_DAYS = 1.0
"""Claims older than this are pruned: Telegram sends an album's photos within seconds."""


class SqlRateHits:
    """A `RateHits` in the rate_hits and rate_warnings tables.

    A hit locks only its user's rows, so users' hits run in parallel on PostgreSQL; rows past
    the window are swept at most once a SWEEP_EVERY per instance, under the shared key.
    """

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        self._swept_at = -math.inf

    async def hit(
        self, user_id: int, *, now: float, window: float, limit: int, tell: bool
    ) -> RateVerdict:
        """Count a hit at `now` if the user has a slot, else say how long until one frees."""
        horizon = now - window
        if now - self._swept_at >= SWEEP_EVERY:
            self._swept_at = now
            await self._sweep(horizon)
        async with self._db.transaction(user_lock(user_id)) as tx:
            rows = await tx.fetchall(
                "SELECT at FROM rate_hits WHERE user_id = ? AND at > ? ORDER BY at LIMIT ?",
                (user_id, horizon, limit),
            )
            if len(rows) < limit:
                await tx.execute(
                    "INSERT INTO rate_hits (user_id, at) VALUES (?, ?)", (user_id, now)
                )
                return RateVerdict()
            oldest = float(rows[0]["at"])
            # One warning per full window: since the oldest counted hit, none was given.
            warn = tell and (
                await tx.execute(
                    "INSERT INTO rate_warnings (user_id, warned_at) VALUES (?, ?)"
                    " ON CONFLICT (user_id) DO UPDATE SET warned_at = excluded.warned_at"
                    " WHERE rate_warnings.warned_at < ?",
                    (user_id, now, oldest),
                )
                == 1
            )
        return RateVerdict(wait=oldest + window - now, warn=warn)

    async def _sweep(self, horizon: float) -> None:
        # Under the shared key: two instances' sweeps never lock the same old rows in turns.
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM rate_hits WHERE at <= ?", (horizon,))
            await tx.execute("DELETE FROM rate_warnings WHERE warned_at <= ?", (horizon,))


class SqlAlbumClaims:
    """An `AlbumClaims` in the album_claims table: the first instance to insert wins."""

    def __init__(self, db: SqlDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def first(self, chat_id: int, media_group_id: str) -> bool:
        """True the first time an album is seen in a chat, False for its other photos."""
        now = self._clock()
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM album_claims WHERE claimed_at < ?", (now - ALBUM_CLAIM_DAYS * 86400,)
            )
            claimed = await tx.execute(
                "INSERT INTO album_claims (chat_id, media_group_id, claimed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id, media_group_id) DO NOTHING",
                (chat_id, media_group_id, now),
            )
        return claimed == 1
