"""Everything the bot keeps: one database (SQLite in DATA_DIR, or PostgreSQL at DATABASE_URL)
and the key that encrypts its secrets."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bot.config import SHARED_KEY_REQUIRED, decode_key
from bot.crypto import KeyFileError, SecretBox, load_or_create_key
from bot.storage.disk import DiskResults
from bot.storage.interfaces import (
    Credentials,
    Credits,
    JobLeases,
    JobLines,
    Jobs,
    QuotaStore,
    SessionTokenStore,
    SqlDatabase,
    Users,
)
from bot.storage.postgres.db import PostgresDatabase, describe
from bot.storage.postgres.listener import RecentListener
from bot.storage.recent import Recent
from bot.storage.results import ResultStore
from bot.storage.sql.credentials import SqlCredentials
from bot.storage.sql.credits import SqlCredits
from bot.storage.sql.job_leases import SqlJobLeases
from bot.storage.sql.job_lines import SqlJobLines
from bot.storage.sql.jobs import SqlJobs
from bot.storage.sql.quota import SqlQuotaStore
from bot.storage.sql.results import SqlResults
from bot.storage.sql.tokens import SqlSessionTokenStore
from bot.storage.sql.users import SqlUsers
from bot.storage.sqlite.db import DB_FILENAME, SqliteDatabase

DATABASE_ERRORS = (OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What opening or using either database raises when it is unreachable, refused or broken."""


@dataclass(frozen=True, slots=True)
class Storage:
    """The database and one repository per table."""

    db: SqlDatabase
    users: Users
    credentials: Credentials
    tokens: SessionTokenStore
    quota: QuotaStore
    jobs: Jobs
    leases: JobLeases
    lines: JobLines
    credits: Credits
    results: ResultStore
    """Result originals for 📎: files under DATA_DIR on SQLite, the job_results table on
    PostgreSQL (no instance needs a disk of its own)."""
    listener: RecentListener | None = None
    """On PostgreSQL: drops cached rows another instance wrote."""

    async def close(self) -> None:
        """Stop listening, close the database."""
        if self.listener is not None:
            await self.listener.close()
        await self.db.close()


def database_where(*, data_dir: Path, database_url: str | None) -> str:
    """Where the data is, for people, before anything is opened."""
    return describe(database_url) if database_url else str(data_dir / DB_FILENAME)


async def open_storage(
    *, data_dir: Path, keys_secret: str | None, database_url: str | None = None
) -> Storage:
    """Load the key and open the database, migrated to the latest schema.

    Without `database_url`: `data_dir/iris.db`, and the key in `data_dir` unless KEYS_SECRET is
    given, and result originals in `data_dir/results`. With it: PostgreSQL, where KEYS_SECRET is
    required (a generated key file on one machine cannot be shared by the instances of another)
    and result originals are kept in the database.
    """
    db: SqlDatabase
    listener: RecentListener | None = None
    if database_url:
        if keys_secret is None:
            raise KeyFileError(SHARED_KEY_REQUIRED)
        box = SecretBox(decode_key(keys_secret))
        db = await PostgresDatabase.open(database_url)
    else:
        key = await asyncio.to_thread(
            load_or_create_key, keys_secret=keys_secret, data_dir=data_dir
        )
        box = SecretBox(key)
        db = await SqliteDatabase.open(data_dir / DB_FILENAME)
    users, credentials = SqlUsers(db), SqlCredentials(db, box)
    if database_url:
        caches: dict[str, Recent[int, Any]] = {
            "users": users.recent,
            "credentials": credentials.recent,
        }
        try:
            listener = await RecentListener.start(database_url, caches)
        except BaseException:
            await db.close()
            raise
    return Storage(
        db=db,
        users=users,
        credentials=credentials,
        tokens=SqlSessionTokenStore(db, box),
        quota=SqlQuotaStore(db),
        jobs=SqlJobs(db),
        leases=SqlJobLeases(db),
        lines=SqlJobLines(db),
        credits=SqlCredits(db),
        results=SqlResults(db) if database_url else DiskResults(data_dir / "results"),
        listener=listener,
    )
