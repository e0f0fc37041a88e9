"""Each user's line of jobs in the database: an admitted job holds one of its user's slots until
it ends, and jobs are admitted in the order they were created, whichever instance runs them."""

from __future__ import annotations

from bot.storage.interfaces import SqlDatabase
from bot.storage.jobs import JobRecord
from bot.storage.sql.job_rows import UNFINISHED_IN, UNFINISHED_VALUES
from bot.storage.sql.locks import user_lock

_ADMIT = (
    "UPDATE jobs SET admitted = 1"  # noqa: S608 - literals only
    f" WHERE id = ? AND state IN ({UNFINISHED_IN}) AND (admitted = 1 OR ("
    "(SELECT COUNT(*) FROM jobs AS mine WHERE mine.user_id = ? AND mine.admitted = 1"
    f" AND mine.state IN ({UNFINISHED_IN})) < ?"
    " AND NOT EXISTS (SELECT 1 FROM jobs AS before WHERE before.user_id = ? AND before.id < ?"
    f" AND before.admitted = 0 AND before.state IN ({UNFINISHED_IN}))))"
)


class SqlJobLines:
    """Admits jobs to their users' slots (USER_MAX_JOBS) and tells a waiting job its place."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def admit(self, job: JobRecord, *, slots: int) -> bool:
        """True when the job holds one of its user's `slots` (now, or already); False while it
        must wait: the slots are taken, or an older job of the user waits before it.

        Counted and set in one transaction, which the user's other writes take in turn.
        """
        async with self._db.transaction(user_lock(job.user_id)) as tx:
            changed = await tx.execute(
                _ADMIT,
                (
                    job.id,
                    *UNFINISHED_VALUES,
                    job.user_id,
                    *UNFINISHED_VALUES,
                    slots,
                    job.user_id,
                    job.id,
                    *UNFINISHED_VALUES,
                ),
            )
        return changed == 1

    async def place(self, job: JobRecord) -> int | None:
        """The job's place among its user's waiting jobs (1 = next); None once it no longer
        waits (admitted, or finished)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM jobs"  # noqa: S608 - literals only
            f" WHERE user_id = ? AND id <= ? AND admitted = 0 AND state IN ({UNFINISHED_IN})"
            " AND EXISTS (SELECT 1 FROM jobs AS this WHERE this.id = ? AND this.admitted = 0"
            f" AND this.state IN ({UNFINISHED_IN}))",
            (job.user_id, job.id, *UNFINISHED_VALUES, job.id, *UNFINISHED_VALUES),
        )
        count = int(row["n"]) if row is not None else 0
        return count or None

    async def waiting(self) -> int:
        """Jobs waiting for a slot of their user, across the whole bot (the queue depth)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM jobs"  # noqa: S608 - literals only
            f" WHERE admitted = 0 AND state IN ({UNFINISHED_IN})",
            UNFINISHED_VALUES,
        )
        return int(row["n"]) if row is not None else 0
