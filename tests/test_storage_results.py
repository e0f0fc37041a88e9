"""Result originals for 📎 on both backends: files under DATA_DIR on SQLite, the job_results
table on PostgreSQL; and 📎 answered from the database by an instance with another disk."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bot.storage import Storage
from bot.storage.disk import DiskResults
from bot.storage.sql.results import SqlResults
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import ALICE, GPTUNNEL_KEY, iris_running

DAY = 24 * 3600
IMAGE = os.urandom(3 * 1024 * 1024)
"""A large result with every byte value, so nothing is decoded or cut on the way."""


async def test_a_result_is_put_read_back_and_known_by_job(storage: Storage) -> None:
    results = storage.results
    assert await results.get(1) is None
    assert not await results.exists(1)
    await results.put(1, IMAGE, mime_type="image/webp", now=time.time())
    assert await results.get(1) == IMAGE
    assert await results.exists(1)
    assert await results.get(10) is None  # another job (also one whose id starts alike)
    assert not await results.exists(10)


async def test_a_second_put_for_a_job_replaces_the_first(storage: Storage) -> None:
    results, now = storage.results, time.time()
    await results.put(3, b"first", mime_type="image/webp", now=now)
    await results.put(4, b"other", mime_type="image/png", now=now)
    await results.put(3, b"second", mime_type="image/png", now=now)
    assert (await results.get(3), await results.get(4)) == (b"second", b"other")


async def test_prune_drops_only_results_kept_before_the_cutoff(storage: Storage) -> None:
    results, now = storage.results, time.time()
    await results.put(1, b"old", mime_type="image/webp", now=now - 8 * DAY)
    await results.put(2, b"new", mime_type="image/jpeg", now=now - 6 * DAY)
    assert await results.prune(before=now - 7 * DAY) == 1
    assert not await results.exists(1)
    assert await results.get(2) == b"new"
    assert await results.prune(before=now - 7 * DAY) == 0


async def test_sqlite_keeps_files_in_data_dir_and_postgres_keeps_rows(
    storage: Storage, backend: dict[str, Any], tmp_path: Path
) -> None:
    await storage.results.put(5, b"png", mime_type="image/png", now=time.time())
    await storage.results.put(5, IMAGE, mime_type="image/webp", now=time.time())
    row = await storage.db.fetchone("SELECT data FROM job_results WHERE job_id = 5")
    files = sorted(p.name for p in (tmp_path / "results").glob("*"))
    if backend.get("database_url"):
        assert isinstance(storage.results, SqlResults)
        assert row is not None and bytes(row["data"]) == IMAGE
        assert files == []
    else:
        assert isinstance(storage.results, DiskResults)
        assert row is None
        assert files == ["5.webp"]  # written whole (no .part left), the PNG replaced
        assert (tmp_path / "results" / "5.webp").read_bytes() == IMAGE


async def test_the_original_is_sent_from_the_database_by_an_instance_with_another_disk(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with iris_running(
        serve, tmp_path, database_url=postgres_url, keys_secret=TEST_KEYS_SECRET,
        gptunnel_api_key=GPTUNNEL_KEY,
    ) as iris:  # fmt: skip
        await iris.say(ALICE, "/imagine a lighthouse")
        await iris.api.wait_for("sendPhoto")
        await iris.settled()
        delivered = iris.api.bot_messages(ALICE.id)[-1]
        original = next(b.callback_data for b in delivered.buttons if b.text == "📎 Original file")
        assert original is not None
        first_dir = iris.settings.data_dir
        await iris.stop()
        # The press reaches a process on another machine: same database, a DATA_DIR of its own.
        iris.settings = iris.settings.model_copy(update={"data_dir": tmp_path / "elsewhere"})
        await iris.start()
        mark = iris.api.mark()
        query = iris.api.press(ALICE, delivered, original)
        document = await iris.api.wait_for("sendDocument", after=mark)
        sent = document.file("document")
        assert sent is not None
        assert (sent.filename, sent.data) == ("iris-1.webp", iris.gptunnel.image)
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        answer = iris.api.answers(query)
        assert answer is not None and answer.text is None  # no "no longer available"
        for data_dir in (first_dir, iris.settings.data_dir):
            assert not (data_dir / "results").exists()
