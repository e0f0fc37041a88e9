"""Transaction keys: on PostgreSQL one key's transactions run one at a time and other keys' run
beside them; rate-limit hits lock only their user's rows and sweep stale rows now and then."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage import Storage
from bot.storage.sql.locks import quota_lock, user_lock
from bot.storage.sql.shared_state import SWEEP_EVERY, SqlRateHits
from tests.conftest import TEST_KEYS_SECRET, open_backend

WINDOW = 10.0


@pytest.fixture
async def two(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two instances' handles on one PostgreSQL database."""
    backend: dict[str, Any] = {"database_url": postgres_url, "keys_secret": TEST_KEYS_SECRET}
    first = await open_backend(backend, tmp_path)
    second = await open_backend(backend, tmp_path)
    yield first, second
    await second.close()
    await first.close()


async def test_one_keys_transactions_wait_for_each_other_and_other_keys_do_not(
    two: tuple[Storage, Storage],
) -> None:
    first, second = two
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with first.db.transaction(user_lock(1)) as tx:
            await tx.execute("INSERT INTO rate_hits (user_id, at) VALUES (1, 1)")
            holding.set()
            await release.wait()

    async def write(key: str) -> None:
        async with second.db.transaction(key) as tx:
            await tx.execute("INSERT INTO rate_hits (user_id, at) VALUES (2, 2)")

    holder = asyncio.create_task(hold())
    try:
        await holding.wait()
        for other in (user_lock(2), quota_lock("user:1"), ""):
            await asyncio.wait_for(write(other), timeout=5)  # never waits for user 1's
        same = asyncio.create_task(write(user_lock(1)))
        done, _ = await asyncio.wait({same}, timeout=0.5)
        assert not done  # the same key waits for the holder's commit
    finally:
        release.set()
    await asyncio.wait_for(asyncio.gather(holder, same), timeout=5)
    row = await second.db.fetchone("SELECT count(*) FROM rate_hits")
    assert row is not None and int(row[0]) == 5


async def test_racing_hits_of_one_user_never_pass_the_limit_and_users_do_not_share(
    two: tuple[Storage, Storage],
) -> None:
    hits = [SqlRateHits(storage.db) for storage in two]
    verdicts = await asyncio.gather(
        *(
            hits[turn % 2].hit(user, now=100.0, window=WINDOW, limit=3, tell=True)
            for turn in range(12)
            for user in (1, 2)
        )
    )
    allowed = [v for v in verdicts if v.wait is None]
    assert len(allowed) == 6  # three for each user
    refused = [v for v in verdicts if v.wait is not None]
    assert sum(v.warn for v in refused) == 2  # one warning for each user


async def test_stale_hits_never_count_and_are_swept_at_most_once_a_while(
    backend: dict[str, Any], tmp_path: Path
) -> None:
    storage = await open_backend(backend, tmp_path)
    try:
        hits = SqlRateHits(storage.db)

        async def rows() -> int:
            row = await storage.db.fetchone("SELECT count(*) FROM rate_hits")
            assert row is not None
            return int(row[0])

        assert (await hits.hit(1, now=0.0, window=WINDOW, limit=1, tell=True)).wait is None
        later = WINDOW + 1
        assert (await hits.hit(1, now=later, window=WINDOW, limit=1, tell=True)).wait is None
        assert await rows() == 2  # the stale hit stays until the next sweep, uncounted
        refused = await hits.hit(1, now=later + 1, window=WINDOW, limit=1, tell=True)
        assert (refused.wait, refused.warn) == (WINDOW - 1, True)
        await hits.hit(2, now=SWEEP_EVERY, window=WINDOW, limit=1, tell=True)
        assert await rows() == 1  # swept: only the newest hit is left
    finally:
        await storage.close()
