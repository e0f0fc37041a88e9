"""Cached users and masked credentials: a write on one instance drops the others' copies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from bot.storage.recent import Recent
from bot.storage.sql.credentials import SqlCredentials
from bot.storage.sql.users import SqlUsers
from tests.conftest import Serve
from tests.instances import two_instances

USER = 77


async def _until_forgotten_and(
    recent: Recent[int, object],
    monkeypatch: pytest.MonkeyPatch,
    holds: Callable[[], Awaitable[bool]],
) -> None:
    """Wait until `holds()`, checked again each time the cache forgets the user."""
    forgotten = asyncio.Event()
    forget = recent.forget

    def heard(key: int) -> None:
        forget(key)
        if key == USER:
            forgotten.set()

    monkeypatch.setattr(recent, "forget", heard)
    while True:
        forgotten.clear()
        if await holds():
            return
        await asyncio.wait_for(forgotten.wait(), 5)


async def test_a_write_on_one_instance_drops_the_cached_rows_of_another(
    serve: Serve, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        users, other_users = iris.app.storage.users, second.storage.users
        credentials, other_credentials = iris.app.storage.credentials, second.storage.credentials
        assert isinstance(users, SqlUsers) and isinstance(credentials, SqlCredentials)
        await users.touch(USER, telegram_language="en")
        assert await credentials.masked(USER) == {}  # both now cached on the first instance

        await other_users.set_language(USER, "es")
        await other_credentials.put(USER, "gptunnel", ["sk-secret"], masked="sk-…cret")

        async def language_is_es() -> bool:
            record = await users.get(USER)
            return record is not None and record.language == "es"

        async def key_is_listed() -> bool:
            return await credentials.masked(USER) == {"gptunnel": "sk-…cret"}

        await _until_forgotten_and(users.recent, monkeypatch, language_is_es)  # type: ignore[arg-type]
        await _until_forgotten_and(credentials.recent, monkeypatch, key_is_listed)  # type: ignore[arg-type]


async def test_cut_off_from_the_notices_an_instance_caches_nothing_until_it_listens_again(
    serve: Serve, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with two_instances(serve, tmp_path, postgres_url) as (iris, second):
        listener, users = iris.app.storage.listener, iris.app.storage.users
        assert listener is not None and isinstance(users, SqlUsers)
        caching: list[bool] = []
        set_caching = users.recent.set_caching

        def recorded(on: bool) -> None:
            caching.append(on)
            set_caching(on)

        monkeypatch.setattr(users.recent, "set_caching", recorded)
        await users.touch(USER, telegram_language="en")
        admin = await asyncpg.connect(postgres_url)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        await iris.api.wait_until(lambda: caching[-2:] == [False, True])
        assert listener.listening
        await users.get(USER)  # cached again
        await second.storage.users.set_language(USER, "zh")

        async def language_is_zh() -> bool:
            record = await users.get(USER)
            return record is not None and record.language == "zh"

        await _until_forgotten_and(users.recent, monkeypatch, language_is_zh)  # type: ignore[arg-type]
