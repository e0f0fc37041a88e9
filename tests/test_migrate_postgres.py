"""`python -m bot migrate-to-postgres`: an SQLite install's durable data moves once, whole, into
an empty PostgreSQL database that the bot then reads as its own."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.config import Settings, load_settings
from bot.crypto import KEY_FILENAME
from bot.jobs.files import RESULT_RETENTION
from bot.migrate import MARKER_FILENAME, MoveRefusedError, move
from bot.storage import open_storage
from bot.storage.jobs import JobKind, JobState, NewJob
from bot.storage.postgres import from_sqlite
from bot.storage.postgres.db import describe
from bot.storage.postgres.from_sqlite import COPIED_TABLES
from bot.storage.sqlite.db import DB_FILENAME
from bot.storage.sqlite.lock import DataDirLock
from tests.checks import assert_absent, photo_bytes
from tests.conftest import TEST_KEYS_SECRET
from tests.harness import GPTUNNEL_KEY, TOKEN
from tests.postgres import table_contents
from tests.test_main import clean_env

NOW = 1_800_000_000.0
ALICE, BOB = 1001, 1002
PASSWORD = "pg-pass-w0rd-secret"
TOKEN_KEY = "codex-session-key"
SESSION_TOKEN = "codex-session-token-0123456789"
RESULT = photo_bytes(fmt="PNG")
TRANSIENT = {"rate_hits", "rate_warnings", "album_claims", "fsm_state", "instances"}


def _job(user_id: int, prompt: str) -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE, provider="gptunnel", user_id=user_id, chat_id=user_id,
        chat_type="private", request_message_id=10, prompt=prompt, credential_source="own",
        language="en",
    )  # fmt: skip


async def _fill(data_dir: Path, *, keys_secret: str | None = None) -> dict[str, int]:
    """An install used for a while, written by the bot's own storage; job ids by name."""
    storage = await open_storage(data_dir=data_dir, keys_secret=keys_secret)
    try:
        await storage.users.touch(ALICE, telegram_language="en")
        await storage.users.set_language(ALICE, "es")
        await storage.users.set_preference(ALICE, "size", "1024x1024")
        await storage.users.touch(BOB, telegram_language="ru")
        await storage.credentials.put(ALICE, "gptunnel", [GPTUNNEL_KEY], masked="shds…cdef")
        await storage.tokens.set(TOKEN_KEY, SESSION_TOKEN)
        await storage.credits.record(ALICE, "gptunnel", 42)
        await storage.quota.try_acquire("describepicture:app", now=NOW, window=3600, limit=10)
        jobs = {name: (await storage.jobs.create(_job(ALICE, name), now=NOW)).id
                for name in ("done", "old", "failed", "polling", "queued")}  # fmt: skip
        for name, path in (("done", "1.png"), ("old", "2.png")):
            await storage.jobs.transition(
                jobs[name], to=JobState.DONE, now=NOW, result_path=path, result_mime="image/png"
            )
        await storage.jobs.transition(jobs["failed"], to=JobState.FAILED, now=NOW, error="auth")
        await storage.jobs.transition(jobs["polling"], to=JobState.POLLING, now=NOW, task_id="t-7")
        await storage.jobs.add_message(jobs["done"], chat_id=ALICE, message_id=77)
        # The process that ran the job never runs again after the move: nobody holds its lease.
        await storage.db.execute(
            "UPDATE jobs SET owner = 'gone', lease_until = ? WHERE id = ?", (NOW, jobs["polling"])
        )
        # An operator's clean-up by hand: the deleted job's id is never handed out again.
        deleted = await storage.jobs.create(_job(BOB, "deleted"), now=NOW)
        await storage.db.execute("DELETE FROM jobs WHERE id = ?", (deleted.id,))
        jobs["deleted"] = deleted.id
    finally:
        await storage.close()
    results = data_dir / "results"
    results.mkdir()
    (results / "1.png").write_bytes(RESULT)
    (results / "2.png").write_bytes(RESULT)
    old = NOW - RESULT_RETENTION - 60
    os.utime(results / "2.png", (old, old))
    os.utime(results / "1.png", (NOW - 60, NOW - 60))
    return jobs


def _with_password(url: str) -> str:
    """The URL with a password (the test server trusts loopback and ignores it)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"iris:{PASSWORD}@{parts.hostname}:{parts.port}"))


def _settings(data_dir: Path, url: str, keys_secret: str) -> Settings:
    return load_settings(
        _env_file=None, bot_token=TOKEN, data_dir=data_dir, database_url=url,
        keys_secret=keys_secret,
    )  # fmt: skip


def _key_file(data_dir: Path) -> str:
    return (data_dir / KEY_FILENAME).read_text().strip()


async def _count(url: str, table: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
    finally:
        await conn.close()


async def test_the_bot_on_postgres_sees_what_it_kept_in_sqlite(
    tmp_path: Path, postgres_url: str
) -> None:
    data_dir, url = tmp_path / "data", _with_password(postgres_url)
    jobs = await _fill(data_dir)
    secret = _key_file(data_dir)

    lines = await move(_settings(data_dir, url, secret), now=NOW)

    assert lines[:-1] == [
        "users: 2", "credentials: 1", "session_tokens: 1", "jobs: 5", "job_messages: 1",
        "credits: 1", "quota_hits: 1", "job_results: 1",
    ]  # fmt: skip
    marker = (data_dir / MARKER_FILENAME).read_text()
    assert describe(url) in marker and describe(url) in lines[-1]
    assert_absent([PASSWORD, secret], "\n".join([*lines, marker]), "output and marker")
    storage = await open_storage(
        data_dir=tmp_path / "elsewhere", keys_secret=secret, database_url=url
    )
    try:
        alice = await storage.users.get(ALICE)
        assert alice is not None and (alice.language, alice.telegram_language) == ("es", "en")
        assert alice.preferences == {"size": "1024x1024"}
        bob = await storage.users.get(BOB)
        assert bob is not None and bob.telegram_language == "ru"
        assert await storage.credentials.get(ALICE, "gptunnel") == (GPTUNNEL_KEY,)
        assert await storage.tokens.get(TOKEN_KEY) == SESSION_TOKEN
        assert (await storage.credits.for_owner(ALICE))["gptunnel"].credits == 42
        assert await storage.quota.used("describepicture:app", now=NOW, window=3600) == 1
        states = {"done": JobState.DONE, "failed": JobState.FAILED, "polling": JobState.POLLING}
        for name, state in {**states, "queued": JobState.QUEUED}.items():
            job = await storage.jobs.get(jobs[name])
            assert job is not None and (job.prompt, job.state) == (name, state)
        assert [job.id for job in await storage.jobs.unfinished()] == [
            jobs["polling"],
            jobs["queued"],
        ]
        replied = await storage.jobs.by_message(ALICE, 77)
        assert replied is not None and replied.id == jobs["done"]
        new = await storage.jobs.create(_job(BOB, "after the move"), now=NOW + 1)
        assert new.id == jobs["deleted"] + 1
    finally:
        await storage.close()
    conn = await asyncpg.connect(url)
    try:
        leases = await conn.fetch(
            "SELECT DISTINCT owner, lease_until FROM jobs WHERE id < $1", jobs["deleted"]
        )
        assert [tuple(row) for row in leases] == [(None, 0.0)]
        results = await conn.fetch("SELECT job_id, mime_type, data, created_at FROM job_results")
        assert [tuple(row) for row in results] == [(jobs["done"], "image/png", RESULT, NOW - 60)]
    finally:
        await conn.close()

    with pytest.raises(MoveRefusedError, match=MARKER_FILENAME):
        await move(_settings(data_dir, url, secret), now=NOW)


async def test_every_table_is_copied_or_known_to_be_transient(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=TEST_KEYS_SECRET)
    try:
        rows = await storage.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        )
    finally:
        await storage.close()
    assert {row["name"] for row in rows} == set(COPIED_TABLES) | TRANSIENT


async def test_a_target_with_data_is_refused_and_left_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    data_dir = tmp_path / "data"
    await _fill(data_dir, keys_secret=TEST_KEYS_SECRET)
    target = await open_storage(
        data_dir=tmp_path / "elsewhere", keys_secret=TEST_KEYS_SECRET, database_url=postgres_url
    )
    try:
        await target.users.touch(4242, telegram_language="en")
    finally:
        await target.close()

    with pytest.raises(MoveRefusedError, match=r"already holds users: .* empty database"):
        await move(_settings(data_dir, postgres_url, TEST_KEYS_SECRET), now=NOW)

    assert await _count(postgres_url, "users") == 1
    assert await _count(postgres_url, "jobs") == 0
    assert not (data_dir / MARKER_FILENAME).exists()


async def test_a_failure_midway_copies_nothing(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    await _fill(data_dir, keys_secret=TEST_KEYS_SECRET)

    def unreadable(path: Path, since: float) -> None:
        raise PermissionError(f"cannot read {path}")

    monkeypatch.setattr(from_sqlite, "_read_result", unreadable)
    with pytest.raises(PermissionError):
        await move(_settings(data_dir, postgres_url, TEST_KEYS_SECRET), now=NOW)

    for table in COPIED_TABLES:
        assert await _count(postgres_url, table) == 0, table
    assert not (data_dir / MARKER_FILENAME).exists()


async def test_a_keys_secret_other_than_the_key_file_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    data_dir = tmp_path / "data"
    await _fill(data_dir)
    key_file = data_dir / KEY_FILENAME

    with pytest.raises(MoveRefusedError) as refused:
        await move(_settings(data_dir, postgres_url, TEST_KEYS_SECRET), now=NOW)

    assert str(refused.value) == (
        f"KEYS_SECRET is not the key in {key_file}, which encrypts the stored keys: "
        f"set KEYS_SECRET to it (read it with: cat {key_file})"
    )
    assert_absent([_key_file(data_dir)], str(refused.value), "the refusal")
    assert await table_contents(postgres_url) == b""  # not even connected


async def test_a_keys_secret_that_opens_nothing_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    data_dir = tmp_path / "data"
    await _fill(data_dir, keys_secret=TEST_KEYS_SECRET)
    other = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="

    with pytest.raises(MoveRefusedError, match=r"^KEYS_SECRET does not open the stored keys$"):
        await move(_settings(data_dir, postgres_url, other), now=NOW)

    assert await table_contents(postgres_url) == b""  # not even connected


async def test_a_running_bot_is_refused(tmp_path: Path, postgres_url: str) -> None:
    data_dir = tmp_path / "data"
    await _fill(data_dir, keys_secret=TEST_KEYS_SECRET)
    bot_lock = DataDirLock(data_dir)  # what a running bot holds on its DATA_DIR
    bot_lock.acquire()
    try:
        with pytest.raises(MoveRefusedError, match=f"pid {os.getpid()}.*stop the bot"):
            await move(_settings(data_dir, postgres_url, TEST_KEYS_SECRET), now=NOW)
    finally:
        bot_lock.release()
    assert await table_contents(postgres_url) == b""  # not even connected


async def _migrate_process(cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate-to-postgres", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_the_command_says_what_it_moved_and_refuses_a_second_run(
    tmp_path: Path, postgres_url: str
) -> None:
    data_dir, url = tmp_path / "data", _with_password(postgres_url)
    await _fill(data_dir)
    key_file = data_dir / KEY_FILENAME
    secret = _key_file(data_dir)
    env = clean_env(BOT_TOKEN=TOKEN, DATA_DIR=str(data_dir), DATABASE_URL=url)

    code, stdout, stderr = await _migrate_process(tmp_path, env)
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"iris: KEYS_SECRET is not set: set it to the key in {key_file}, which encrypts the "
        f"stored keys (read it with: cat {key_file})\n"
    )

    code, stdout, stderr = await _migrate_process(tmp_path, {**env, "KEYS_SECRET": secret})
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[:3] == ["users: 2", "credentials: 1", "session_tokens: 1"]
    assert await _count(postgres_url, "jobs") == 5

    code, stdout, stderr = await _migrate_process(tmp_path, {**env, "KEYS_SECRET": secret})
    assert (code, stdout) == (2, "")
    assert stderr.startswith("iris: this install was moved to PostgreSQL already")
    assert len(stderr.splitlines()) == 1
    for output in (stdout, stderr):
        assert_absent([PASSWORD, secret], output, "the command's output")
    assert (data_dir / DB_FILENAME).exists()
    assert MARKER_FILENAME in stderr
