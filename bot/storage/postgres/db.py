"""A pool of PostgreSQL connections running the repositories' SQL, `?` placeholders included."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

import asyncpg

from bot.storage.interfaces import Params, Row, Statements
from bot.storage.postgres.migrations import Connection, migrate, schema_version

logger = logging.getLogger(__name__)

POOL_SIZE = 10
"""Connections at most per process: statements outside a transaction share them."""
CONNECT_TIMEOUT = 10.0

LOCK_SPACE = 0x1815_0002
"""First half of the advisory lock a transaction() takes; the second is its key's hash."""
WRITE_PROBE = "INSERT INTO quota_hits (key, at) VALUES ('iris-check', 0)"
"""What check_writable writes, then rolls back."""


def describe(url: str) -> str:
    """`PostgreSQL at host:port/database`: where the data is, never the user or password."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or query.get("host", ["localhost"])[0]
    port = parts.port or int(query.get("port", ["5432"])[0])
    database = parts.path.lstrip("/") or query.get("dbname", [parts.username or ""])[0]
    return f"PostgreSQL at {host}:{port}/{database}"


@lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """The statement with each `?` outside quotes turned into PostgreSQL's `$1`, `$2`, …"""
    out: list[str] = []
    quoted = False
    count = 0
    for char in sql:
        if char == "'":
            quoted = not quoted
        elif char == "?" and not quoted:
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


def _rowcount(status: str) -> int:
    """The row count at the end of a command status such as `UPDATE 2` or `INSERT 0 1`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _keep_session(conn: Connection) -> None:
    """A released connection needs no reset query (a round trip per statement on the pool): none
    of Iris's sets session state there (SET, LISTEN, cursors, session locks); asyncpg still rolls
    back a transaction left open."""


class _Statements:
    """Statements on the pool (each its own transaction) or on one connection's transaction."""

    def __init__(self, target: asyncpg.Pool | Connection) -> None:
        self._target = target
        self.writes = 0
        """Statements that changed rows."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement; the number of rows it changed."""
        changed = _rowcount(await self._target.execute(numbered(sql), *params))
        if changed != 0:
            self.writes += 1
        return changed

    async def insert(self, sql: str, params: Params) -> int:
        """Run one INSERT into a table with an `id` column; the new row's id."""
        row_id = await self._target.fetchval(numbered(sql) + " RETURNING id", *params)
        if not isinstance(row_id, int):
            raise RuntimeError("the statement did not insert exactly one row")
        self.writes += 1
        return row_id

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        row: Row | None = await self._target.fetchrow(numbered(sql), *params)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> Sequence[Row]:
        """Every row of a query."""
        rows: Sequence[Row] = await self._target.fetch(numbered(sql), *params)
        return rows


class PostgresDatabase(_Statements):
    """An asyncpg pool; several Iris processes may share the database behind it."""

    def __init__(self, pool: asyncpg.Pool, *, where: str) -> None:
        super().__init__(pool)
        self._pool = pool
        self._where = where

    @property
    def where(self) -> str:
        """PostgreSQL's host, port and database."""
        return self._where

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect to `url` and bring the schema up to date."""
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT, reset=_keep_session
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        where = describe(url)
        logger.info("database %s open", where)
        return cls(pool, where=where)

    async def close(self) -> None:
        """Close the pool once running calls are done."""
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self, key: str = "") -> AsyncIterator[Statements]:
        """BEGIN … COMMIT on one connection holding `key`'s advisory lock, or ROLLBACK if the
        block raises (or is cancelled)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_SPACE, key)
            statements = _Statements(conn)
            yield statements
        self.writes += statements.writes

    async def schema_version(self) -> int:
        """How many numbered migrations the database has."""
        return await schema_version(self._pool)

    async def check_writable(self) -> None:
        """Write a row and roll it back: raises when the database cannot be written."""
        async with self._pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                await conn.execute(WRITE_PROBE)
            finally:
                await transaction.rollback()
