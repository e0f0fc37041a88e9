"""The durable tables of an SQLite database copied into an empty PostgreSQL one, in one
transaction, ids kept; result files on disk become job_results rows."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage.postgres.db import CONNECT_TIMEOUT
from bot.storage.postgres.migrations import Connection, migrate
from bot.storage.sqlite.db import SqliteDatabase

logger = logging.getLogger(__name__)

COPIED_TABLES = (
    "users",
    "credentials",
    "session_tokens",
    "jobs",
    "job_messages",
    "credits",
    "quota_hits",
    "job_results",
)
"""Tables of durable data, in copy order. The others (rate_hits, rate_warnings, album_claims,
fsm_state, instances) hold seconds to minutes of state and start empty."""
UNKNOWN_MIME = "application/octet-stream"


class TargetNotEmptyError(Exception):
    """The PostgreSQL database already holds rows: copying would mix two installs."""

    def __init__(self, table: str) -> None:
        super().__init__(f"the target already holds {table}")
        self.table = table


async def copy_into(
    url: str, sqlite: SqliteDatabase, *, results_dir: Path, results_since: float
) -> dict[str, int]:
    """Migrate the schema at `url`, then copy every table of COPIED_TABLES and the result files
    modified since `results_since`, all or nothing; rows copied per table."""
    conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        await migrate(conn)
        async with conn.transaction():
            # No bot's write to these tables interleaves with the copy (reads still run).
            await conn.execute(f"LOCK TABLE {', '.join(COPIED_TABLES)} IN EXCLUSIVE MODE")
            await _refuse_rows(conn)
            counts = {table: await _copy_table(conn, sqlite, table) for table in COPIED_TABLES}
            counts["job_results"] += await _copy_result_files(
                conn, sqlite, results_dir=results_dir, since=results_since
            )
            await _advance_job_ids(conn, sqlite)
    finally:
        await conn.close()
    return counts


async def _refuse_rows(conn: Connection) -> None:
    """Raise TargetNotEmptyError naming the first copied table that holds a row."""
    for table in COPIED_TABLES:
        # Table names come from COPIED_TABLES, never from input.
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # noqa: S608
            raise TargetNotEmptyError(table)


async def _copy_table(conn: Connection, sqlite: SqliteDatabase, table: str) -> int:
    """COPY every row of the SQLite table into the same columns; how many rows."""
    columns = [row["name"] for row in await sqlite.fetchall(f"PRAGMA table_info({table})")]
    rows = await sqlite.fetchall(f"SELECT * FROM {table}")  # noqa: S608 - a known table
    records = [tuple(row) for row in rows]
    if table == "jobs":
        records = [_released(columns, record) for record in records]
    if records:
        await conn.copy_records_to_table(table, records=records, columns=columns)
    logger.info("copied %d rows of %s", len(records), table)
    return len(records)


def _released(columns: list[str], record: tuple[Any, ...]) -> tuple[Any, ...]:
    """The job held by no one: the process of the old install never runs again, so the first
    instance to look resumes an unfinished job (or tells of an interruption) at once."""
    job = dict(zip(columns, record, strict=True))
    job["owner"], job["lease_until"] = None, 0.0
    return tuple(job.values())


async def _copy_result_files(
    conn: Connection, sqlite: SqliteDatabase, *, results_dir: Path, since: float
) -> int:
    """Insert the result file of each job that has none in job_results, when still kept (not
    older than `since`); how many."""
    jobs = await sqlite.fetchall(
        "SELECT id, result_path, result_mime FROM jobs WHERE result_path IS NOT NULL"
        " AND id NOT IN (SELECT job_id FROM job_results) ORDER BY id"
    )
    copied = 0
    for job in jobs:
        found = await asyncio.to_thread(_read_result, results_dir / job["result_path"], since)
        if found is None:
            continue
        data, created_at = found
        await conn.execute(
            "INSERT INTO job_results (job_id, mime_type, data, created_at) VALUES ($1, $2, $3, $4)",
            job["id"],
            job["result_mime"] or UNKNOWN_MIME,
            data,
            created_at,
        )
        copied += 1
    return copied


def _read_result(path: Path, since: float) -> tuple[bytes, float] | None:
    """The file's bytes and modification time, or None when it is gone or older than `since`."""
    try:
        modified = path.stat().st_mtime
        return None if modified < since else (path.read_bytes(), modified)
    except (FileNotFoundError, IsADirectoryError):
        return None


async def _advance_job_ids(conn: Connection, sqlite: SqliteDatabase) -> None:
    """Move the jobs id sequence past every id SQLite handed out, deleted jobs' included."""
    row = await sqlite.fetchone(
        "SELECT max(coalesce((SELECT max(id) FROM jobs), 0),"
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'jobs'), 0))"
    )
    last = int(row[0]) if row is not None else 0
    if last > 0:
        await conn.execute("SELECT setval(pg_get_serial_sequence('jobs', 'id'), $1)", last)
