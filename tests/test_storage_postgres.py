"""The PostgreSQL backend's own parts: its migrations, placeholders, settings and no lock file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.check import check_database
from bot.config import SettingsError
from bot.crypto import KEY_FILENAME, KeyFileError
from bot.providers import log_secrets
from bot.storage import open_storage
from bot.storage.interfaces import SchemaTooNewError
from bot.storage.postgres.db import PostgresDatabase, describe, numbered
from bot.storage.postgres.migrations import MIGRATIONS, migrate
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import iris_running, settings_for

PASSWORD = "pg-pass-w0rd-secret"
UNUSED_URLS = dict.fromkeys(
    ("telegram", "gptunnel", "codexaeternum", "describepicture", "ailuna"), "http://127.0.0.1:1"
)
"""Endpoints for settings that are never called."""


async def _version(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT version FROM schema_version"))
    finally:
        await conn.close()


async def test_a_fresh_database_is_migrated_to_the_latest_version(postgres_url: str) -> None:
    db = await PostgresDatabase.open(postgres_url)
    try:
        assert await db.schema_version() == len(MIGRATIONS)
        await db.check_writable()
        row = await db.fetchone("SELECT count(*) FROM quota_hits")
        assert row is not None and row[0] == 0  # the probe was rolled back
    finally:
        await db.close()
    assert await _version(postgres_url) == len(MIGRATIONS)


async def test_an_appended_migration_runs_once(postgres_url: str) -> None:
    v6 = "CREATE TABLE runs (n INTEGER NOT NULL); INSERT INTO runs (n) VALUES (1);"
    conn = await asyncpg.connect(postgres_url)
    try:
        await migrate(conn)
        await migrate(conn, (*MIGRATIONS, v6))
        await migrate(conn, (*MIGRATIONS, v6))
        assert [tuple(r) for r in await conn.fetch("SELECT n FROM runs")] == [(1,)]
    finally:
        await conn.close()
    assert await _version(postgres_url) == len(MIGRATIONS) + 1


async def test_a_failing_migration_leaves_nothing_behind(postgres_url: str) -> None:
    broken = "CREATE TABLE half (n INTEGER); INSERT INTO no_such_table VALUES (1);"
    conn = await asyncpg.connect(postgres_url)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, (*MIGRATIONS, broken))
        tables = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
    finally:
        await conn.close()
    assert "half" not in tables
    assert "jobs" in tables
    assert await _version(postgres_url) == len(MIGRATIONS)


async def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    db = await PostgresDatabase.open(postgres_url)
    await db.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))
    await db.close()
    with pytest.raises(SchemaTooNewError, match="newer Iris"):
        await PostgresDatabase.open(postgres_url)


def test_placeholders_are_numbered_outside_quotes_only() -> None:
    sql = "SELECT ? WHERE a = '?' AND b IN (?, ?)"
    assert numbered(sql) == "SELECT $1 WHERE a = '?' AND b IN ($2, $3)"


def test_where_names_host_port_and_database_never_the_password() -> None:
    url = f"postgresql://iris:{PASSWORD}@db.example:6543/bot"
    assert describe(url) == "PostgreSQL at db.example:6543/bot"
    assert describe("postgresql:///bot?host=/run/postgresql") == (
        "PostgreSQL at /run/postgresql:5432/bot"
    )


def test_postgres_requires_keys_secret_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql://iris:{PASSWORD}@127.0.0.1:5432/iris"
    with pytest.raises(SettingsError) as refused:
        settings_for(tmp_path, UNUSED_URLS, database_url=url)
    assert refused.value.lines == [
        "DATABASE_URL is set, so KEYS_SECRET must be set too: every instance sharing the "
        "database needs the same key, and a key file generated in one DATA_DIR cannot be shared"
    ]
    with pytest.raises(SettingsError) as wrong:
        settings_for(tmp_path, UNUSED_URLS, database_url=f"mysql://iris:{PASSWORD}@h/db")
    assert len(wrong.value.lines) == 1
    assert wrong.value.lines[0].startswith("DATABASE_URL ")
    assert PASSWORD not in wrong.value.lines[0]
    settings = settings_for(tmp_path, UNUSED_URLS, database_url=url, keys_secret=TEST_KEYS_SECRET)
    assert {url, PASSWORD} <= set(log_secrets(settings))


async def test_open_storage_refuses_postgres_without_keys_secret(
    postgres_url: str, tmp_path: Path
) -> None:
    with pytest.raises(KeyFileError, match="KEYS_SECRET must be set"):
        await open_storage(data_dir=tmp_path, keys_secret=None, database_url=postgres_url)
    assert not (tmp_path / KEY_FILENAME).exists()  # no key generated


async def test_check_reports_postgres(postgres_url: str, tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, UNUSED_URLS, database_url=postgres_url, keys_secret=TEST_KEYS_SECRET
    )
    outcome = await check_database(settings)
    where = describe(postgres_url)
    assert outcome.line() == (
        f"✓ database: {where}, schema version {len(MIGRATIONS)}, writable; key: KEYS_SECRET"
    )
    closed = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    settings = settings_for(
        tmp_path, UNUSED_URLS, database_url=closed, keys_secret=TEST_KEYS_SECRET
    )
    outcome = await check_database(settings)
    assert outcome.status == "fail"
    assert outcome.detail.startswith(f"cannot open {describe(closed)}: ")


async def test_the_bot_on_postgres_takes_no_data_dir_lock_and_writes_no_database_file(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    backend: dict[str, Any] = {"database_url": postgres_url, "keys_secret": TEST_KEYS_SECRET}
    async with iris_running(serve, tmp_path, **backend) as iris:
        data_dir = iris.settings.data_dir
        # No DATA_DIR lock: several instances may share the database.
        assert not (data_dir / "iris.lock").exists()
        assert not (data_dir / "iris.db").exists()
        assert await iris.app.storage.users.count() == 0
