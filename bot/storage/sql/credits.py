"""The credits table: the last credits each provider reported, per owner."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.storage.credits import CreditRecord
from bot.storage.interfaces import SqlDatabase


class SqlCredits:
    """The credits table."""

    def __init__(self, db: SqlDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def record(self, owner_id: int, provider: str, credits: int) -> None:
        """Keep the latest credits a provider reported for this owner."""
        await self._db.execute(
            "INSERT INTO credits (owner_id, provider, credits, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (owner_id, provider)"
            " DO UPDATE SET credits = excluded.credits, updated_at = excluded.updated_at",
            (owner_id, provider, credits, self._clock()),
        )

    async def forget(self, owner_id: int, provider: str) -> None:
        """Drop what is known of this owner's credits with this provider."""
        await self._db.execute(
            "DELETE FROM credits WHERE owner_id = ? AND provider = ?", (owner_id, provider)
        )

    async def for_owner(self, owner_id: int) -> dict[str, CreditRecord]:
        """Every provider's last known credits for this owner."""
        rows = await self._db.fetchall(
            "SELECT provider, credits, updated_at FROM credits WHERE owner_id = ?", (owner_id,)
        )
        return {
            row["provider"]: CreditRecord(row["provider"], row["credits"], row["updated_at"])
            for row in rows
        }
