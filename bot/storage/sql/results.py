"""Results kept in the job_results table, where every instance on the database reads them."""

from __future__ import annotations

from bot.storage.interfaces import SqlDatabase


class SqlResults:
    """A `ResultStore` in the job_results table."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def put(self, job_id: int, data: bytes, *, mime_type: str, now: float) -> None:
        """Keep the bytes in the job's row, replacing any earlier ones."""
        await self._db.execute(
            "INSERT INTO job_results (job_id, mime_type, data, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (job_id) DO UPDATE SET mime_type = excluded.mime_type,"
            " data = excluded.data, created_at = excluded.created_at",
            (job_id, mime_type, data, now),
        )

    async def get(self, job_id: int) -> bytes | None:
        """The job's bytes, or None."""
        row = await self._db.fetchone("SELECT data FROM job_results WHERE job_id = ?", (job_id,))
        return None if row is None else bytes(row["data"])

    async def exists(self, job_id: int) -> bool:
        """True when the job has a row."""
        row = await self._db.fetchone("SELECT 1 FROM job_results WHERE job_id = ?", (job_id,))
        return row is not None

    async def prune(self, *, before: float) -> int:
        """Delete the rows kept before `before`."""
        return await self._db.execute("DELETE FROM job_results WHERE created_at < ?", (before,))
