"""The SQLite backend's own parts: its migrations, WAL mode, one connection, and its files."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.storage import Storage, open_storage
from bot.storage.interfaces import SchemaTooNewError
from bot.storage.sqlite.db import DB_FILENAME, SqliteDatabase
from bot.storage.sqlite.migrations import MIGRATIONS, migrate
from services.base import mask
from services.describepicture import HourlyQuota
from tests.test_storage import API_KEY, APP_ID, CODEX_SECRET, SESSION_TOKEN, new_job


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_storage(data_dir=tmp_path, keys_secret=None)
    yield opened
    await opened.close()


async def _user_version(path: Path) -> int:
    async with aiosqlite.connect(path) as conn, conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_fresh_database_is_at_the_latest_version_in_wal_mode(
    storage: Storage, tmp_path: Path
) -> None:
    row = await storage.db.fetchone("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    tables = await storage.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert {"users", "credentials", "session_tokens", "quota_hits", "jobs"} <= {
        r["name"] for r in tables
    }
    await storage.close()
    assert await _user_version(tmp_path / DB_FILENAME) == len(MIGRATIONS)


async def test_an_appended_migration_runs_once(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    v2 = "CREATE TABLE runs (n INTEGER NOT NULL); INSERT INTO runs (n) VALUES (1);"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await migrate(conn)
        await migrate(conn, (*MIGRATIONS, v2))
        await migrate(conn, (*MIGRATIONS, v2))
        rows = list(await conn.execute_fetchall("SELECT n FROM runs"))
    assert [tuple(r) for r in rows] == [(1,)]
    assert await _user_version(path) == len(MIGRATIONS) + 1


async def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    broken = "CREATE TABLE half (n INTEGER); INSERT INTO no_such_table VALUES (1);"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        with pytest.raises(sqlite3.OperationalError):
            await migrate(conn, (*MIGRATIONS, broken))
        names = list(await conn.execute_fetchall("SELECT name FROM sqlite_master"))
    assert "half" not in {r[0] for r in names}
    assert "jobs" in {r[0] for r in names}
    assert await _user_version(path) == len(MIGRATIONS)


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(SchemaTooNewError, match="newer Iris"):
        await SqliteDatabase.open(path)


async def test_using_the_database_inside_its_own_transaction_is_an_error(
    storage: Storage,
) -> None:
    with pytest.raises(RuntimeError, match="Transaction's methods"):
        async with storage.db.transaction():
            await storage.db.fetchone("SELECT 1")


async def test_database_files_never_hold_a_secret_in_clear(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=None)
    await storage.credentials.put(1, "gptunnel", [API_KEY], masked=mask(API_KEY))
    await storage.credentials.put(1, "describepicture", [APP_ID], masked=mask(APP_ID))
    await storage.credentials.put(1, "codexaeternum", ["a@b.c", CODEX_SECRET], masked="a@b.c")
    await storage.tokens.set("cachekey", SESSION_TOKEN)
    await HourlyQuota(storage.quota).acquire(APP_ID)
    await storage.jobs.create(new_job(prompt="VISIBLE-PROMPT-314159"), now=1.0)
    secrets = [API_KEY, APP_ID, CODEX_SECRET, SESSION_TOKEN]

    def scan() -> bytes:
        files = [tmp_path / f"{DB_FILENAME}{suffix}" for suffix in ("", "-wal", "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    while_open = scan()
    assert (tmp_path / f"{DB_FILENAME}-wal").stat().st_size > 0
    # The scan does see clear text that is meant to be stored, so it would see a secret.
    assert b"VISIBLE-PROMPT-314159" in while_open
    assert mask(API_KEY).encode() in while_open
    await storage.close()
    after_close = scan()
    assert b"VISIBLE-PROMPT-314159" in after_close
    for secret in secrets:
        assert secret.encode() not in while_open
        assert secret.encode() not in after_close
