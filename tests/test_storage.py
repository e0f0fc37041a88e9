"""The storage on both backends (SQLite, PostgreSQL): repositories, atomicity, caches, and no
secret in clear."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.crypto import DecryptionError, SecretBox, load_or_create_key
from bot.storage import Storage
from bot.storage.jobs import TERMINAL, UNFINISHED, JobKind, JobRecord, JobState, NewJob
from bot.storage.postgres.migrations import MIGRATIONS as POSTGRES_MIGRATIONS
from bot.storage.sql.tokens import SqlSessionTokenStore
from bot.storage.sql.users import SqlUsers
from bot.storage.sqlite.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from bot.storage.users import UserRecord
from services.base import mask
from services.codexaeternum import SessionTokenStore
from services.describepicture import HourlyQuota, MemoryQuotaStore, QuotaStore
from tests.conftest import TEST_KEYS_SECRET as KEY
from tests.conftest import open_backend
from tests.postgres import table_contents

API_KEY = "SECRET-KEY-1234567890"
SESSION_TOKEN = "SESSION-TOKEN-ABCDEFGHIJ"
APP_ID = "APPID-SECRET-0987654321"
CODEX_SECRET = "CODEX-SECRET-5555555555"


def new_job(**changes: Any) -> NewJob:
    return replace(
        NewJob(
            kind=JobKind.GENERATE,
            provider="gptunnel",
            user_id=7,
            chat_id=-100,
            chat_type="supergroup",
            request_message_id=11,
            prompt="a red fox in snow",
            options={"ar": "16:9"},
            credential_source="own",
            language="en",
        ),
        **changes,
    )


# Migrations and the database


def test_both_backends_have_the_same_schema_versions() -> None:
    assert len(POSTGRES_MIGRATIONS) == len(SQLITE_MIGRATIONS)


async def test_reopening_keeps_data_and_runs_no_migration_again(
    backend: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = await open_backend(backend, tmp_path)
    await first.users.touch(5, telegram_language="es")
    await first.close()
    with caplog.at_level(logging.INFO):
        second = await open_backend(backend, tmp_path)
    user = await second.users.get(5)
    version = await second.db.schema_version()
    await second.close()
    assert user is not None and user.telegram_language == "es"
    assert version == len(SQLITE_MIGRATIONS)
    assert "migrated" not in caplog.text


async def test_a_transaction_rolls_back_and_counts_no_write(storage: Storage) -> None:
    db = storage.db
    before = db.writes

    async def insert_then_fail() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO quota_hits (key, at) VALUES ('k', 1)")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await insert_then_fail()
    assert await storage.quota.used("k", now=1, window=10) == 0
    assert db.writes == before
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO quota_hits (key, at) VALUES ('k', 1)")
        await tx.execute("INSERT INTO quota_hits (key, at) VALUES ('k', 2)")
    assert db.writes == before + 2
    assert await db.execute("DELETE FROM quota_hits WHERE key = 'nothing'") == 0
    assert db.writes == before + 2


async def test_a_read_never_sees_another_coroutines_open_transaction(storage: Storage) -> None:
    db = storage.db
    reader_waiting = asyncio.Event()

    async def reader() -> int:
        reader_waiting.set()
        row = await db.fetchone("SELECT count(*) FROM quota_hits")
        assert row is not None
        return int(row[0])

    reads: list[asyncio.Task[int]] = []

    async def insert_read_undo() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO quota_hits (key, at) VALUES ('k', 1)")
            reads.append(asyncio.create_task(reader()))
            await asyncio.wait_for(reader_waiting.wait(), 5)
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError, match="undo"):
        await insert_read_undo()
    assert await asyncio.wait_for(reads[0], 5) == 0


# Users


async def test_touch_creates_then_writes_only_on_change(storage: Storage) -> None:
    users, db = storage.users, storage.db
    created = await users.touch(1, telegram_language="en")
    assert created == await users.get(1)
    assert (created.language, created.telegram_language, created.active) == (None, "en", True)
    assert created.preferences == {}

    writes = db.writes
    assert await users.touch(1, telegram_language="en") == created
    assert await users.touch(1, telegram_language=None) == created
    assert db.writes == writes

    changed = await users.touch(1, telegram_language="ru")
    assert changed.telegram_language == "ru"
    assert db.writes == writes + 1


async def test_user_language_settings_active_and_count(storage: Storage) -> None:
    users = storage.users
    assert await users.get(2) is None
    await users.touch(2, telegram_language="zh-hans")
    await users.set_language(2, "es")
    await users.set_preference(2, "ar", "16:9")
    await users.set_preference(2, "generate_provider", "ailuna")
    await users.set_preference(2, "ar", None)
    await users.set_active(2, False)
    user = await users.get(2)
    assert user is not None
    assert (user.language, user.telegram_language) == ("es", "zh-hans")
    assert user.preferences == {"generate_provider": "ailuna"}
    assert user.active is False

    again = await users.touch(2, telegram_language="zh-hans")
    assert again.active is True
    await users.set_language(2, None)
    cleared = await users.get(2)
    assert cleared is not None and cleared.language is None

    await users.set_preference(3, "ar", "1:1")  # a user never touched is created
    assert await users.count() == 2


async def test_a_read_racing_a_write_never_leaves_the_old_record_cached(storage: Storage) -> None:
    users = storage.users
    assert isinstance(users, SqlUsers)
    await users.touch(4, telegram_language="en")
    languages = itertools.cycle(["ru", "es", None])
    # The read starts 0..7 event-loop steps before the write: every interleaving of the two.
    for head_start in range(8):
        users._cache.forget(4)  # the read must go to the table
        reading = asyncio.create_task(users.get(4))
        for _ in range(head_start):
            await asyncio.sleep(0)
        await users.set_language(4, next(languages))
        await reading
        assert await users.get(4) == await _stored_user(storage, 4)


async def test_recent_users_are_read_from_memory(storage: Storage) -> None:
    users = storage.users
    await users.touch(5, telegram_language="en")
    await users.get(5)
    async with storage.db.transaction() as tx:
        # Behind the cache's back (nothing in Iris writes users elsewhere): proves no read. On
        # PostgreSQL with the triggers off, or the write would be heard as any instance's is.
        if storage.listener is not None:
            await tx.execute("SET LOCAL session_replication_role = replica")
        await tx.execute("UPDATE users SET telegram_language = 'zh' WHERE id = 5")
    cached = await users.get(5)
    assert cached is not None and cached.telegram_language == "en"


async def test_masked_credentials_follow_every_write(storage: Storage) -> None:
    credentials = storage.credentials
    assert await credentials.masked(6) == {}
    await credentials.put(6, "gptunnel", ["k" * 20], masked="kkkk…kkkk")
    assert await credentials.masked(6) == {"gptunnel": "kkkk…kkkk"}
    await credentials.put(6, "gptunnel", ["z" * 20], masked="zzzz…zzzz")
    await credentials.put(6, "ailuna", ["a" * 20], masked="aaaa…aaaa")
    shown = await credentials.masked(6)
    assert shown == {"ailuna": "aaaa…aaaa", "gptunnel": "zzzz…zzzz"}
    shown.clear()  # a caller's copy: the kept one is untouched
    assert await credentials.delete(6, "gptunnel")
    assert await credentials.masked(6) == {"ailuna": "aaaa…aaaa"}


async def _stored_user(storage: Storage, user_id: int) -> UserRecord:
    """The user as the table holds it, in UserRecord's shape."""
    fresh = SqlUsers(storage.db)
    user = await fresh.get(user_id)
    assert user is not None
    return user


# Credentials


async def test_credentials_put_get_masked_delete(storage: Storage) -> None:
    credentials = storage.credentials
    await credentials.put(1, "gptunnel", [API_KEY], masked=mask(API_KEY))
    await credentials.put(1, "codexaeternum", ["me@example.com", CODEX_SECRET], masked="me@…")
    await credentials.put(2, "gptunnel", ["OTHER-KEY-000000000"], masked="OTHE…0000")
    assert await credentials.get(1, "gptunnel") == (API_KEY,)
    assert await credentials.get(1, "codexaeternum") == ("me@example.com", CODEX_SECRET)
    assert await credentials.get(1, "ailuna") is None
    assert await credentials.masked(1) == {"codexaeternum": "me@…", "gptunnel": mask(API_KEY)}

    await credentials.put(1, "gptunnel", ["NEW-KEY-9999999999"], masked="NEW-…9999")
    assert await credentials.get(1, "gptunnel") == ("NEW-KEY-9999999999",)
    assert (await credentials.masked(1))["gptunnel"] == "NEW-…9999"

    assert await credentials.delete(1, "gptunnel") is True
    assert await credentials.delete(1, "gptunnel") is False
    assert await credentials.get(1, "gptunnel") is None
    assert await credentials.get(2, "gptunnel") == ("OTHER-KEY-000000000",)


async def test_a_blob_moved_to_another_row_counts_as_missing(
    storage: Storage, backend: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Decision: a credential that does not decrypt is treated as missing, with a warning."""
    credentials, db = storage.credentials, storage.db
    await credentials.put(1, "gptunnel", [API_KEY], masked="x")
    await credentials.put(2, "gptunnel", ["VICTIM-KEY-11111111"], masked="y")
    await credentials.put(1, "ailuna", ["AILUNA-KEY-22222222"], masked="z")
    for user_id, provider in ((2, "gptunnel"), (1, "ailuna")):
        await db.execute(
            "UPDATE credentials SET secret ="
            " (SELECT secret FROM credentials WHERE user_id = 1 AND provider = 'gptunnel')"
            " WHERE user_id = ? AND provider = ?",
            (user_id, provider),
        )
    with caplog.at_level(logging.WARNING):
        assert await credentials.get(2, "gptunnel") is None
        assert await credentials.get(1, "ailuna") is None
    assert await credentials.get(1, "gptunnel") == (API_KEY,)
    assert "does not decrypt" in caplog.text
    assert API_KEY not in caplog.text

    row = await db.fetchone("SELECT secret FROM credentials WHERE user_id = 2")
    assert row is not None
    box = SecretBox(load_or_create_key(keys_secret=backend.get("keys_secret"), data_dir=tmp_path))
    with pytest.raises(DecryptionError):
        box.decrypt(row["secret"], aad=b"cred:2:gptunnel")


# Session tokens


async def test_session_tokens_get_set_delete(storage: Storage) -> None:
    tokens: SessionTokenStore = storage.tokens
    assert await tokens.get("k1") is None
    await tokens.set("k1", SESSION_TOKEN)
    await tokens.set("k2", "other-token")
    assert await tokens.get("k1") == SESSION_TOKEN
    await tokens.set("k1", "replaced-token")
    assert await tokens.get("k1") == "replaced-token"
    await tokens.delete("k1")
    await tokens.delete("k1")
    assert await tokens.get("k1") is None
    assert await tokens.get("k2") == "other-token"


async def test_an_undecryptable_token_is_missing(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    await storage.tokens.set("k1", SESSION_TOKEN)
    other_key = SqlSessionTokenStore(storage.db, SecretBox(bytes(32)))
    with caplog.at_level(logging.WARNING):
        assert await other_key.get("k1") is None
    assert "does not decrypt" in caplog.text
    assert SESSION_TOKEN not in caplog.text
    await storage.db.execute("UPDATE session_tokens SET key = 'k2' WHERE key = 'k1'")
    assert await storage.tokens.get("k2") is None


# Quota


async def test_quota_sliding_window(storage: Storage) -> None:
    quota: QuotaStore = storage.quota
    window, limit = 100.0, 3
    for now in (0.0, 10.0, 20.0):
        assert await quota.try_acquire("a", now=now, window=window, limit=limit) is None
    assert await quota.used("a", now=30, window=window) == 3
    assert await quota.next_free("a", now=30, window=window, limit=limit) == 100.0
    assert await quota.try_acquire("a", now=30, window=window, limit=limit) == 100.0
    assert await quota.used("a", now=30, window=window) == 3
    assert await quota.try_acquire("b", now=30, window=window, limit=limit) is None

    assert await quota.next_free("a", now=100, window=window, limit=limit) is None
    assert await quota.try_acquire("a", now=100, window=window, limit=limit) is None
    assert await quota.try_acquire("a", now=101, window=window, limit=limit) == 110.0
    assert await quota.used("a", now=101, window=window) == 3
    # The hit at 0 left the window and was pruned; only the window's hits remain stored.
    row = await storage.db.fetchone("SELECT count(*) FROM quota_hits WHERE key = 'a'")
    assert row is not None and row[0] == 3

    with pytest.raises(ValueError, match="at least 1"):
        await quota.try_acquire("a", now=102, window=window, limit=0)


async def test_concurrent_acquires_never_exceed_the_limit(storage: Storage) -> None:
    results = await asyncio.gather(
        *(storage.quota.try_acquire("k", now=50.0, window=60, limit=3) for _ in range(10))
    )
    assert results.count(None) == 3
    assert set(results) == {None, 110.0}
    assert await storage.quota.used("k", now=50.0, window=60) == 3


async def test_quota_behaves_like_the_memory_store(storage: Storage) -> None:
    memory, stored = MemoryQuotaStore(), storage.quota
    rng = random.Random(7)
    now = 1000.0
    for _ in range(200):
        now += rng.choice((0.0, 0.5, 3.0, 20.0))
        limit = rng.choice((2, 3, 5))
        key = rng.choice(("x", "y"))
        assert await stored.try_acquire(
            key, now=now, window=30, limit=limit
        ) == await memory.try_acquire(key, now=now, window=30, limit=limit)
        assert await stored.used(key, now=now, window=30) == await memory.used(
            key, now=now, window=30
        )


# Jobs


async def test_job_create_and_get(storage: Storage) -> None:
    created = await storage.jobs.create(new_job(), now=10.0)
    assert created.state is JobState.QUEUED
    assert (created.created_at, created.updated_at, created.finished_at) == (10.0, 10.0, None)
    assert created.options == {"ar": "16:9"}
    assert await storage.jobs.get(created.id) == created
    assert await storage.jobs.get(created.id + 1) is None

    await storage.jobs.set_status_message(created.id, 99)
    await storage.jobs.set_document_file_id(created.id, "BQACAgI")
    stored = await storage.jobs.get(created.id)
    assert stored is not None
    assert (stored.status_message_id, stored.document_file_id) == (99, "BQACAgI")


async def test_transition_is_a_compare_and_set(storage: Storage) -> None:
    jobs = storage.jobs
    job = await jobs.create(new_job(), now=1.0)
    results = await asyncio.gather(
        *(
            jobs.transition(job.id, to=JobState.SUBMITTING, expect={JobState.QUEUED}, now=2.0)
            for _ in range(5)
        )
    )
    assert results.count(True) == 1
    assert await jobs.transition(
        job.id, to=JobState.POLLING, expect={JobState.SUBMITTING}, now=3.0, task_id="t-1"
    )
    assert await jobs.transition(job.id, to=JobState.CANCELLED, now=4.0)
    assert not await jobs.transition(
        job.id, to=JobState.DELIVERING, expect={JobState.POLLING}, now=5.0, result_text="late"
    )
    # Without `expect`, only an unfinished job moves: a cancelled one stays cancelled.
    assert not await jobs.transition(job.id, to=JobState.DONE, now=6.0)
    stored = await jobs.get(job.id)
    assert stored is not None
    assert (stored.state, stored.task_id, stored.result_text) == (JobState.CANCELLED, "t-1", None)
    assert (stored.updated_at, stored.finished_at) == (4.0, 4.0)


async def test_transition_fields_and_finished_at(storage: Storage) -> None:
    jobs = storage.jobs
    job = await jobs.create(new_job(kind=JobKind.DESCRIBE, input_file_id="AgAC"), now=1.0)
    assert await jobs.transition(job.id, to=JobState.SUBMITTING, now=2.0, started_at=2.0)
    assert await jobs.transition(
        job.id, to=JobState.DELIVERING, now=3.0, result_text="a fox", attempts=1
    )
    running = await jobs.get(job.id)
    assert running is not None and running.finished_at is None
    assert await jobs.transition(job.id, to=JobState.DONE, now=4.0, result_message_id=77)
    done = await jobs.get(job.id)
    assert done is not None
    assert (done.state, done.started_at, done.finished_at) == (JobState.DONE, 2.0, 4.0)
    assert (done.result_text, done.attempts, done.result_message_id) == ("a fox", 1, 77)

    other = await jobs.create(new_job(), now=1.0)
    assert await jobs.transition(other.id, to=JobState.FAILED, now=9.0, error="auth")
    failed = await jobs.get(other.id)
    assert failed is not None and (failed.error, failed.finished_at) == ("auth", 9.0)


@pytest.mark.parametrize("column", ["state", "prompt", "user_id", "id; DROP TABLE jobs"])
async def test_transition_refuses_other_columns(storage: Storage, column: str) -> None:
    job = await storage.jobs.create(new_job(), now=1.0)
    fields: dict[str, Any] = {column: "x"}
    with pytest.raises(ValueError, match="cannot set"):
        await storage.jobs.transition(job.id, to=JobState.SUBMITTING, now=2.0, **fields)
    assert await storage.jobs.get(job.id) == job


async def test_unfinished_and_active_for_user(storage: Storage) -> None:
    jobs = storage.jobs
    created: list[JobRecord] = [
        await jobs.create(new_job(user_id=1 + i % 2), now=float(i)) for i in range(6)
    ]
    ends = {0: JobState.DONE, 2: JobState.CANCELLED, 3: JobState.POLLING, 4: JobState.TIMED_OUT}
    for index, state in ends.items():
        assert await jobs.transition(created[index].id, to=state, now=10.0)
    unfinished = await jobs.unfinished()
    assert [j.id for j in unfinished] == [created[i].id for i in (1, 3, 5)]
    assert all(j.state in UNFINISHED for j in unfinished)
    assert [j.id for j in await jobs.active_for_user(2)] == [created[i].id for i in (1, 3, 5)]
    assert await jobs.active_for_user(1) == []
    assert set(JobState) - UNFINISHED == TERMINAL


async def test_postgres_tables_never_hold_a_secret_in_clear(
    postgres_url: str, tmp_path: Path
) -> None:
    storage = await open_backend({"database_url": postgres_url, "keys_secret": KEY}, tmp_path)
    await storage.credentials.put(1, "gptunnel", [API_KEY], masked=mask(API_KEY))
    await storage.credentials.put(1, "describepicture", [APP_ID], masked=mask(APP_ID))
    await storage.credentials.put(1, "codexaeternum", ["a@b.c", CODEX_SECRET], masked="a@b.c")
    await storage.tokens.set("cachekey", SESSION_TOKEN)
    await HourlyQuota(storage.quota).acquire(APP_ID)
    await storage.jobs.create(new_job(prompt="VISIBLE-PROMPT-314159"), now=1.0)
    await storage.close()
    contents = await table_contents(postgres_url)
    # The scan does see clear text that is meant to be stored, so it would see a secret.
    assert b"VISIBLE-PROMPT-314159" in contents
    assert mask(API_KEY).encode() in contents
    for secret in (API_KEY, APP_ID, CODEX_SECRET, SESSION_TOKEN):
        assert secret.encode() not in contents
