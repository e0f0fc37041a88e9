"""The jobs and job_messages tables: jobs stored before any provider call, moved on by
compare-and-set."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.storage.interfaces import SqlDatabase, Statements
from bot.storage.jobs import (
    SEARCHED_RESULTS,
    TERMINAL,
    UNFINISHED,
    FieldValue,
    JobCount,
    JobRecord,
    JobState,
    Lease,
    NewJob,
)
from bot.storage.sql.job_create import insert_job
from bot.storage.sql.job_rows import COLUMNS, UNFINISHED_IN, UNFINISHED_VALUES, placeholders
from bot.storage.sql.job_rows import job_record as _record
from bot.storage.sql.locks import user_lock

_SELECT = f"SELECT {COLUMNS} FROM jobs"  # noqa: S608 - literals only

_SETTABLE = {
    "task_id": "task_id = ?",
    "error": "error = ?",
    "result_text": "result_text = ?",
    "result_path": "result_path = ?",
    "result_mime": "result_mime = ?",
    "result_message_id": "result_message_id = ?",
    "attempts": "attempts = ?",
    "started_at": "started_at = ?",
    "finished_at": "finished_at = ?",
    "remote_id": "remote_id = ?",
    # The first find stays: a result fetched again after a restart is not the provider's time.
    "result_at": "result_at = COALESCE(result_at, ?)",
}
"""Columns `transition` may set, each with its SQL written here: never a name from a caller."""


class SqlJobs:
    """The jobs table."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, job: NewJob, *, now: float, lease: Lease | None = None) -> JobRecord:
        """Store a new job, QUEUED (held by `lease`'s owner until it passes, if given)."""
        return await insert_job(self._db, job, now=now, lease=lease)

    async def create_within_limit(
        self, job: NewJob, *, now: float, since: float, limit: int, lease: Lease | None = None
    ) -> JobRecord | None:
        """Store a new job unless its user has `limit` operator jobs since `since` (None).

        Counted and stored in one transaction: two processes cannot both let one more through.
        """
        async with self._db.transaction(user_lock(job.user_id)) as tx:
            if await count_operator_jobs(tx, job.user_id, since=since) >= limit:
                return None
            return await insert_job(tx, job, now=now, lease=lease)

    async def get(self, job_id: int) -> JobRecord | None:
        """The job, or None."""
        row = await self._db.fetchone(_SELECT + " WHERE id = ?", (job_id,))
        return None if row is None else _record(row)

    async def set_status_message(self, job_id: int, message_id: int) -> None:
        """Remember the message that shows the job's progress."""
        await self._db.execute(
            "UPDATE jobs SET status_message_id = ? WHERE id = ?", (message_id, job_id)
        )

    async def set_result_message(self, job_id: int, message_id: int) -> None:
        """Remember the message that told the job's outcome (an interrupted job's user was told)."""
        await self._db.execute(
            "UPDATE jobs SET result_message_id = ? WHERE id = ?", (message_id, job_id)
        )

    async def set_document_file_id(self, job_id: int, file_id: str) -> None:
        """Remember the Telegram file id of the original sent as a document, to resend it."""
        await self._db.execute(
            "UPDATE jobs SET document_file_id = ? WHERE id = ?", (file_id, job_id)
        )

    async def transition(
        self,
        job_id: int,
        *,
        to: JobState,
        expect: Collection[JobState] | None = None,
        now: float,
        owner: str | None = None,
        **fields: FieldValue,
    ) -> bool:
        """Move the job to `to` if it is in one of `expect` (default: any unfinished state).

        An atomic compare-and-set: False when the job was elsewhere (cancelled meanwhile, say),
        and then nothing is written. With `owner`, also only while that instance holds the job:
        one whose lease lapsed writes nothing after another resumed it. `fields` set columns of
        `_SETTABLE` in the same statement; a terminal state sets finished_at to `now` unless given.
        """
        unknown = sorted(set(fields) - _SETTABLE.keys())
        if unknown:
            raise ValueError(f"transition cannot set {', '.join(unknown)}")
        expected = UNFINISHED if expect is None else frozenset(expect)
        if not expected:
            raise ValueError("transition needs at least one expected state")
        if to in TERMINAL:
            fields.setdefault("finished_at", now)
        assignments = ["state = ?", "updated_at = ?", *(_SETTABLE[name] for name in fields)]
        states = sorted(state.value for state in expected)
        # Only literals are joined here: the assignments come from _SETTABLE, the rest are "?".
        sql = (
            f"UPDATE jobs SET {', '.join(assignments)}"  # noqa: S608
            f" WHERE id = ? AND state IN ({placeholders(len(states))})"
        )
        params = [to.value, now, *fields.values(), job_id, *states]
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        return await self._db.execute(sql, params) == 1

    async def set_result_file_id(self, job_id: int, file_id: str) -> None:
        """Remember the Telegram file id of the delivered result photo, to share it inline."""
        await self._db.execute("UPDATE jobs SET result_file_id = ? WHERE id = ?", (file_id, job_id))

    async def for_inline_message(self, inline_message_id: str) -> JobRecord | None:
        """The latest job shown in this inline message, if any."""
        row = await self._db.fetchone(
            _SELECT + " WHERE inline_message_id = ? ORDER BY id DESC LIMIT 1",
            (inline_message_id,),
        )
        return None if row is None else _record(row)

    async def shareable(
        self, user_id: int, *, words: Sequence[str], limit: int, offset: int
    ) -> list[JobRecord]:
        """The user's delivered result photos whose prompts hold every word, newest first
        (searched among their latest SEARCHED_RESULTS)."""
        wanted = [word.lower() for word in words]
        window = (limit, offset) if not wanted else (SEARCHED_RESULTS, 0)
        rows = await self._db.fetchall(
            _SELECT + " WHERE user_id = ? AND result_file_id IS NOT NULL"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (user_id, *window),
        )
        jobs = [_record(row) for row in rows]
        if not wanted:
            return jobs
        found = [job for job in jobs if all(word in job.prompt.lower() for word in wanted)]
        return found[offset : offset + limit]

    async def for_request(self, chat_id: int, message_id: int) -> JobRecord | None:
        """The first job a user's message started, if any."""
        row = await self._db.fetchone(
            _SELECT + " WHERE chat_id = ? AND request_message_id = ? ORDER BY id LIMIT 1",
            (chat_id, message_id),
        )
        return None if row is None else _record(row)

    async def add_message(self, job_id: int, *, chat_id: int, message_id: int) -> None:
        """Remember a message the job delivered, so replies to it lead back to the job."""
        await self._db.execute(
            "INSERT INTO job_messages (chat_id, message_id, job_id) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, message_id) DO UPDATE SET job_id = excluded.job_id",
            (chat_id, message_id, job_id),
        )

    async def by_message(self, chat_id: int, message_id: int) -> JobRecord | None:
        """The job that delivered this message, if any."""
        row = await self._db.fetchone(
            _SELECT + " WHERE id = (SELECT job_id FROM job_messages"  # noqa: S608 - literals
            " WHERE chat_id = ? AND message_id = ?)",
            (chat_id, message_id),
        )
        return None if row is None else _record(row)

    async def thread(self, job_id: int) -> list[JobRecord]:
        """The job and the jobs it follows up, first question first."""
        rows = await self._db.fetchall(
            "WITH RECURSIVE chain(id, depth) AS ("  # noqa: S608 - literals only
            " SELECT CAST(? AS BIGINT), 0 UNION ALL"
            " SELECT jobs.parent_id, chain.depth + 1 FROM jobs JOIN chain ON jobs.id = chain.id"
            " WHERE jobs.parent_id IS NOT NULL AND chain.depth < 100)"
            " SELECT j.* FROM (" + _SELECT + ") AS j JOIN chain ON j.id = chain.id"
            " ORDER BY chain.depth DESC",
            (job_id,),
        )
        return [_record(row) for row in rows]

    async def operator_jobs(self, user_id: int, *, since: float) -> int:
        """Jobs of this user on the operator's keys since `since` that reached (or may still
        reach) a provider: ones refused or cancelled before any call do not count."""
        return await count_operator_jobs(self._db, user_id, since=since)

    async def users_since(self, since: float) -> int:
        """How many users started a job since `since`."""
        row = await self._db.fetchone(
            "SELECT COUNT(DISTINCT user_id) AS n FROM jobs WHERE created_at >= ?", (since,)
        )
        return int(row["n"]) if row is not None else 0

    async def counts(self, *, since: float | None = None) -> list[JobCount]:
        """Jobs per provider, kind and state, created since `since` (all time when None)."""
        rows = await self._db.fetchall(
            "SELECT provider, kind, state, COUNT(*) AS n FROM jobs WHERE created_at >= ?"
            " GROUP BY provider, kind, state ORDER BY provider, kind, state",
            (since if since is not None else float("-inf"),),
        )
        return [JobCount(r["provider"], r["kind"], r["state"], r["n"]) for r in rows]

    async def unfinished(self) -> list[JobRecord]:
        """Every unfinished job, oldest first: what a restart resumes."""
        rows = await self._db.fetchall(
            _SELECT + f" WHERE state IN ({UNFINISHED_IN}) ORDER BY id", UNFINISHED_VALUES
        )
        return [_record(row) for row in rows]

    async def recent_durations(self, provider: str, *, limit: int) -> list[float]:
        """Seconds from submit to result of the provider's latest `limit` results, newest first."""
        rows = await self._db.fetchall(
            "SELECT result_at - started_at AS seconds FROM jobs"
            " WHERE provider = ? AND result_at IS NOT NULL AND started_at IS NOT NULL"
            " ORDER BY result_at DESC LIMIT ?",
            (provider, limit),
        )
        return [float(row["seconds"]) for row in rows]

    async def duration(self, job_id: int) -> float | None:
        """Seconds from the job's submit to its result, once its result was found."""
        row = await self._db.fetchone(
            "SELECT result_at - started_at AS seconds FROM jobs WHERE id = ?", (job_id,)
        )
        return None if row is None or row["seconds"] is None else float(row["seconds"])

    async def active_for_user(self, user_id: int) -> list[JobRecord]:
        """The user's unfinished jobs, oldest first."""
        rows = await self._db.fetchall(
            _SELECT + f" WHERE user_id = ? AND state IN ({UNFINISHED_IN}) ORDER BY id",
            (user_id, *UNFINISHED_VALUES),
        )
        return [_record(row) for row in rows]


async def count_operator_jobs(source: Statements, user_id: int, *, since: float) -> int:
    """Jobs of this user on the operator's keys since `since` that reached (or may still
    reach) a provider: ones refused or cancelled before any call do not count."""
    row = await source.fetchone(
        "SELECT COUNT(*) AS n FROM jobs"  # noqa: S608 - placeholders only
        " WHERE user_id = ? AND credential_source = 'operator' AND created_at >= ?"
        f" AND (started_at IS NOT NULL OR state IN ({UNFINISHED_IN}))",
        (user_id, since, *UNFINISHED_VALUES),
    )
    return int(row["n"]) if row is not None else 0
