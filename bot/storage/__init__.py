"""Everything the bot keeps: one database (SQLite in DATA_DIR, or PostgreSQL at DATABASE_URL)
and the key that encrypts its secrets."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bot.config import SHARED_KEY_REQUIRED, decode_key
from bot.crypto import KeyFileError, SecretBox, load_or_create_key
from bot.storage.interfaces import (
    Credentials,
    Credits,
    Jobs,
    QuotaStore,
    SessionTokenStore,
    SqlDatabase,
    Users,
)
from bot.storage.postgres.db import PostgresDatabase, describe
from bot.storage.sql.credentials import SqlCredentials
from bot.storage.sql.credits import SqlCredits
from bot.storage.sql.jobs import SqlJobs
from bot.storage.sql.quota import SqlQuotaStore
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
    credits: Credits

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()


def database_where(*, data_dir: Path, database_url: str | None) -> str:
    """Where the data is, for people, before anything is opened."""
    return describe(database_url) if database_url else str(data_dir / DB_FILENAME)


async def open_storage(
    *, data_dir: Path, keys_secret: str | None, database_url: str | None = None
) -> Storage:
    """Load the key and open the database, migrated to the latest schema.

    Without `database_url`: `data_dir/iris.db`, and the key in `data_dir` unless KEYS_SECRET is
    given. With it: PostgreSQL, where KEYS_SECRET is required (a generated key file on one
    machine cannot be shared by the instances of another).
    """
    db: SqlDatabase
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
    return Storage(
        db=db,
        users=SqlUsers(db),
        credentials=SqlCredentials(db, box),
        tokens=SqlSessionTokenStore(db, box),
        quota=SqlQuotaStore(db),
        jobs=SqlJobs(db),
        credits=SqlCredits(db),
    )
