"""Jobs claimed by lease: the instance whose lease on a job has not passed is the one running it.

Every claim is a compare-and-set on the row (`lease_until < now` checked again by the UPDATE
itself), so two instances claiming at once never both get a job: PostgreSQL re-evaluates the
condition on the row another transaction just changed, and SQLite has one writer anyway.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.storage.interfaces import SqlDatabase
from bot.storage.jobs import JobRecord, JobState, Lease
from bot.storage.sql.job_rows import (
    COLUMNS,
    UNFINISHED_IN,
    UNFINISHED_VALUES,
    job_record,
    placeholders,
)

_CLAIM = (
    "UPDATE jobs SET owner = ?, lease_until = ?"  # noqa: S608 - literals only
    f" WHERE lease_until < ? AND state IN ({UNFINISHED_IN})"
    " AND id IN (SELECT id FROM jobs"
    f" WHERE lease_until < ? AND state IN ({UNFINISHED_IN}) ORDER BY id LIMIT ?)"
    f" RETURNING {COLUMNS}"
)


class SqlJobLeases:
    """Claims, renews and lets go of the jobs an instance runs."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def claim(self, lease: Lease, *, now: float, limit: int) -> list[JobRecord]:
        """Take up to `limit` unfinished jobs whose lease has passed, oldest first."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                _CLAIM,
                (lease.owner, lease.until, now, *UNFINISHED_VALUES, now, *UNFINISHED_VALUES, limit),
            )
        return sorted((job_record(row) for row in rows), key=lambda job: job.id)

    async def renew(self, lease: Lease) -> set[int]:
        """Extend the lease on every unfinished job the owner holds; their ids."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE jobs SET lease_until = ?"  # noqa: S608 - literals only
                f" WHERE owner = ? AND state IN ({UNFINISHED_IN}) RETURNING id",
                (lease.until, lease.owner, *UNFINISHED_VALUES),
            )
        return {int(row["id"]) for row in rows}

    async def gone(self, owner: str, job_ids: Collection[int]) -> set[int]:
        """Of these jobs, the ones the owner must stop: cancelled, or resumed by another."""
        if not job_ids:
            return set()
        rows = await self._db.fetchall(
            f"SELECT id FROM jobs WHERE id IN ({placeholders(len(job_ids))})"  # noqa: S608
            " AND (state = ? OR owner IS NULL OR owner <> ?)",
            (*job_ids, JobState.CANCELLED.value, owner),
        )
        return {int(row["id"]) for row in rows}

    async def release(self, owner: str) -> int:
        """Let go of every unfinished job the owner holds, and of the interrupted ones it was
        telling their users about, for another instance to take now."""
        return await self._db.execute(
            "UPDATE jobs SET owner = NULL, lease_until = 0"  # noqa: S608 - literals only
            f" WHERE owner = ? AND (state IN ({UNFINISHED_IN})"
            " OR (state = ? AND result_message_id IS NULL))",
            (owner, *UNFINISHED_VALUES, JobState.INTERRUPTED.value),
        )

    async def claim_untold(self, lease: Lease, *, now: float, since: float) -> list[JobRecord]:
        """Take the interrupted jobs since `since` whose users were not told yet, and whose
        notice no other instance is sending (its hold has passed)."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE jobs SET owner = ?, lease_until = ?"  # noqa: S608 - literals only
                " WHERE state = ? AND result_message_id IS NULL AND finished_at >= ?"
                f" AND lease_until < ? RETURNING {COLUMNS}",
                (lease.owner, lease.until, JobState.INTERRUPTED.value, since, now),
            )
        return sorted((job_record(row) for row in rows), key=lambda job: job.id)
