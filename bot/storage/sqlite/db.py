"""The one SQLite connection of the process, with writes and transactions serialised on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.interfaces import Params, Statements
from bot.storage.sqlite.migrations import migrate

logger = logging.getLogger(__name__)

DB_FILENAME = "iris.db"

WRITE_PROBE = "INSERT INTO quota_hits (key, at) VALUES ('iris-check', 0)"
"""What check_writable writes, then rolls back."""


class Transaction:
    """Statements of one `Database.transaction()`; they run while it holds the connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.writes = 0
        """Statements that changed rows, added to `Database.writes` once committed."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement; the number of rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            changed = cursor.rowcount
        if changed != 0:
            self.writes += 1
        return changed

    async def insert(self, sql: str, params: Params) -> int:
        """Run one INSERT; the new row's id."""
        async with self._conn.execute(sql, params) as cursor:
            inserted, row_id = cursor.rowcount, cursor.lastrowid
        if inserted != 1 or row_id is None:
            raise RuntimeError("the statement did not insert exactly one row")
        self.writes += 1
        return row_id

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """The first row of a query, or None."""
        async with self._conn.execute(sql, params) as cursor:
            row: aiosqlite.Row | None = await cursor.fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Every row of a query."""
        return list(await self._conn.execute_fetchall(sql, params))


class SqliteDatabase:
    """One aiosqlite connection in autocommit mode; a lock keeps each transaction whole.

    aiosqlite runs every statement on one thread in order, so two coroutines' statements
    would interleave inside a transaction; every call takes the lock, reads included, so a read
    never sees another coroutine's uncommitted rows either.
    """

    def __init__(self, conn: aiosqlite.Connection, *, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self.writes = 0
        """Committed statements that changed rows, for the benchmark's writes per job."""

    @property
    def where(self) -> str:
        """The database file."""
        return str(self.path)

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (creating if needed) the database at `path` and bring its schema up to date."""
        await asyncio.to_thread(path.parent.mkdir, mode=0o700, parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; transaction() issues BEGIN itself.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            conn.row_factory = aiosqlite.Row
            await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        logger.info("database %s open", path)
        return cls(conn, path=path)

    async def close(self) -> None:
        """Close the connection once running calls are done."""
        async with self._lock:
            await self._conn.close()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run and commit one write statement; the number of rows it changed."""
        async with self._locked() as tx:
            changed = await tx.execute(sql, params)
        self.writes += tx.writes
        return changed

    async def insert(self, sql: str, params: Params) -> int:
        """Run and commit one INSERT; the new row's id."""
        async with self._locked() as tx:
            row_id = await tx.insert(sql, params)
        self.writes += tx.writes
        return row_id

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """The first row of a query, or None."""
        async with self._locked() as tx:
            return await tx.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Every row of a query."""
        async with self._locked() as tx:
            return await tx.fetchall(sql, params)

    @asynccontextmanager
    async def transaction(self, key: str = "") -> AsyncIterator[Statements]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises (or is cancelled); one
        writer at a time whatever the key."""
        async with self._locked() as tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield tx
                await self._conn.execute("COMMIT")
            except BaseException:
                # Queued behind the statements already sent to the connection's thread, so it
                # runs after them even when this task was cancelled while one was executing.
                # SQLite may have rolled back already (or BEGIN failed): nothing left to undo.
                with contextlib.suppress(sqlite3.OperationalError):
                    await self._conn.execute("ROLLBACK")
                raise
        self.writes += tx.writes

    async def schema_version(self) -> int:
        """How many numbered migrations the database has."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row is not None else 0

    async def check_writable(self) -> None:
        """Write a row and roll it back: raises when the database cannot be written."""
        async with self._locked():
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                await self._conn.execute(WRITE_PROBE)
            finally:
                await self._conn.execute("ROLLBACK")

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[Transaction]:
        """The connection to this task alone; a call from inside a transaction is a bug."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError("inside a transaction, use the Transaction's methods")
        async with self._lock:
            self._owner = task
            try:
                yield Transaction(self._conn)
            finally:
                self._owner = None
