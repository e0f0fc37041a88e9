"""Fixtures shared by every test: the HTTP session, loopback servers, and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.storage import Storage, open_storage
from playground.providers.server import LoopbackServer
from services.http import RetryPolicy, new_session
from tests.postgres import PostgresServer

Serve = Callable[[web.Application], Awaitable[LoopbackServer]]

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, max_retry_after=5)
"""Production retry logic with delays short enough that tests never notice them."""
SHORT_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=1, sock_read=0.3)
"""A client timeout that gives up on a silent server within a test's patience."""
TEST_KEYS_SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
"""KEYS_SECRET for tests on PostgreSQL, where it is required."""
BACKENDS = ("sqlite", "postgres")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The process-wide client session, as the bot makes it."""
    s = new_session()
    yield s
    await s.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start apps on 127.0.0.1; every server is closed when the test ends."""
    servers: list[LoopbackServer] = []

    async def start(app: web.Application) -> LoopbackServer:
        server = LoopbackServer(app)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test process; fails (never skips) without the binaries."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database of the test server."""
    return await postgres_server.create_database()


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for each storage backend in turn: SQLite in DATA_DIR, then PostgreSQL."""
    if request.param == "sqlite":
        return {}
    url = await request.getfixturevalue("postgres_server").create_database()
    return {"database_url": url, "keys_secret": TEST_KEYS_SECRET}


async def open_backend(backend: dict[str, Any], data_dir: Path) -> Storage:
    """The storage on the backend the `backend` fixture chose."""
    return await open_storage(
        data_dir=data_dir,
        keys_secret=backend.get("keys_secret"),
        database_url=backend.get("database_url"),
    )


@pytest.fixture
async def storage(backend: dict[str, Any], tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_backend(backend, tmp_path)
    yield opened
    await opened.close()
