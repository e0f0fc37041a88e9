"""The SQLite schema as numbered scripts; `PRAGMA user_version` says how many are applied."""

from __future__ import annotations

import contextlib
import logging
import sqlite3

import aiosqlite

from bot.storage.interfaces import SchemaTooNewError

logger = logging.getLogger(__name__)

_V1 = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,  -- the Telegram user id
    language TEXT NULL,  -- the user's explicit choice
    telegram_language TEXT NULL,
    settings TEXT NOT NULL DEFAULT '{}',  -- JSON object of strings
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE credentials (
    user_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    secret BLOB NOT NULL,  -- SecretBox blob of the JSON list of parts
    masked TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (user_id, provider)
);

CREATE TABLE session_tokens (
    key TEXT PRIMARY KEY,  -- SHA-256 hex of the credential, no secret
    token BLOB NOT NULL,  -- SecretBox blob
    updated_at REAL NOT NULL
);

CREATE TABLE quota_hits (
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX quota_hits_key_at ON quota_hits (key, at);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,  -- generate | describe
    provider TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    chat_type TEXT NOT NULL,
    request_message_id INTEGER NULL,
    status_message_id INTEGER NULL,
    prompt TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',  -- JSON object of strings
    input_file_id TEXT NULL,  -- Telegram file id of the photo to describe
    credential_source TEXT NOT NULL,  -- own | operator
    language TEXT NOT NULL,
    task_id TEXT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NULL,  -- an error code, never a message that could hold a secret
    result_text TEXT NULL,  -- a describe answer, kept so a restart delivers without paying again
    result_path TEXT NULL,  -- the result image's file under DATA_DIR
    result_mime TEXT NULL,
    result_message_id INTEGER NULL,
    document_file_id TEXT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL NULL,
    finished_at REAL NULL
);
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_user_state ON jobs (user_id, state);
"""

_V2 = """
-- Telegram re-sends updates a crashed process had not confirmed; a request starts one job.
CREATE INDEX jobs_by_request ON jobs (chat_id, request_message_id);
"""

_V3 = """
-- Follow-up questions chain describe jobs; AiLuna results keep the provider's image id.
ALTER TABLE jobs ADD COLUMN parent_id INTEGER NULL;
ALTER TABLE jobs ADD COLUMN remote_id TEXT NULL;
-- Every message a job delivered, so a reply to any of them finds the job.
CREATE TABLE job_messages (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    job_id INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
-- The last credits a provider reported, per owner (a user; 0 for the operator's keys).
CREATE TABLE credits (
    owner_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    credits INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (owner_id, provider)
);
"""

_V4 = """
-- The forum topic a request came from, so every message about the job lands there.
ALTER TABLE jobs ADD COLUMN thread_id INTEGER NULL;
"""

_V5 = """
-- When a generation job's result was found: result_at - started_at is how long its provider took.
ALTER TABLE jobs ADD COLUMN result_at REAL NULL;
CREATE INDEX jobs_results ON jobs (provider, result_at) WHERE result_at IS NOT NULL;
"""

_V6 = """
-- Inline mode: a job whose messages are one inline message (edited by its id, no chat).
ALTER TABLE jobs ADD COLUMN inline_message_id TEXT NULL;
CREATE INDEX jobs_by_inline_message ON jobs (inline_message_id)
    WHERE inline_message_id IS NOT NULL;
-- The Telegram file id of a delivered result photo: shared again inline with no upload.
ALTER TABLE jobs ADD COLUMN result_file_id TEXT NULL;
CREATE INDEX jobs_shareable ON jobs (user_id, id) WHERE result_file_id IS NOT NULL;
"""

_V7 = """
-- Several instances share these on PostgreSQL; one SQLite process keeps them in memory, but
-- the schema stays the same version on both.
CREATE TABLE rate_hits (
    user_id INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX rate_hits_user_at ON rate_hits (user_id, at);
CREATE INDEX rate_hits_at ON rate_hits (at);
CREATE TABLE rate_warnings (
    user_id INTEGER PRIMARY KEY,
    warned_at REAL NOT NULL
);
CREATE TABLE album_claims (
    chat_id INTEGER NOT NULL,
    media_group_id TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    PRIMARY KEY (chat_id, media_group_id)
);
CREATE INDEX album_claims_at ON album_claims (claimed_at);
CREATE TABLE fsm_state (
    key TEXT PRIMARY KEY,
    state TEXT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at REAL NOT NULL
);
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
"""

_V8 = """
-- Jobs claimed by lease: the instance running a job (owner) renews lease_until while it runs;
-- once past, any instance may claim it. A job admitted holds one of its user's USER_MAX_JOBS.
ALTER TABLE jobs ADD COLUMN owner TEXT NULL;
ALTER TABLE jobs ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN admitted INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET admitted = 1 WHERE state IN ('submitting', 'polling', 'delivering');
CREATE INDEX jobs_leases ON jobs (lease_until)
    WHERE state IN ('queued', 'submitting', 'polling', 'delivering');
CREATE INDEX jobs_owner ON jobs (owner)
    WHERE state IN ('queued', 'submitting', 'polling', 'delivering');
-- Untouched result images for 📎 where no instance has a disk of its own (PostgreSQL).
CREATE TABLE job_results (
    job_id INTEGER PRIMARY KEY,
    mime_type TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX job_results_created ON job_results (created_at);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
"""Script N (from 1) brings the schema from version N-1 to N; only ever append."""


async def migrate(conn: aiosqlite.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> None:
    """Apply the scripts the database lacks, each with its version bump in one transaction."""
    version = await _user_version(conn)
    if version > len(migrations):
        raise SchemaTooNewError(
            f"the database is at schema version {version} but this Iris knows only up to "
            f"{len(migrations)}: run a newer Iris, or restore a backup made by this one"
        )
    for target in range(version + 1, len(migrations) + 1):
        await _apply(conn, target, migrations[target - 1])


async def _apply(conn: aiosqlite.Connection, target: int, script: str) -> None:
    try:
        await conn.execute("BEGIN IMMEDIATE")
        # Read again under the write lock: another process may have migrated meanwhile.
        if await _user_version(conn) >= target:
            await conn.execute("ROLLBACK")
            return
        for statement in _statements(script):
            await conn.execute(statement)
        # PRAGMA takes no parameters; `target` is an int counted by this code, never input.
        await conn.execute(f"PRAGMA user_version = {int(target)}")
        await conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.OperationalError):
            await conn.execute("ROLLBACK")
        raise
    logger.info("database schema migrated to version %d", target)


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


def _statements(script: str) -> list[str]:
    """The statements of a script, split where SQLite says one is complete.

    executescript() would commit the open transaction first, so each statement runs on its own.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        raise ValueError("the migration script ends with an incomplete statement")
    return statements
