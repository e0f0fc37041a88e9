"""What many users' writes cost on PostgreSQL when two instances make them at once: each job's
three write transactions (a rate-limit hit, the operator-limit check with the job's creation,
the admission to the user's slots), every user making their jobs one after another."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.config import BenchConfig
from bench.contenders import KEYS_SECRET
from bench.figures import WritesFigures, percentile
from bench.sharing import postgres_server
from bot.shared_state import shared_state
from bot.storage import Storage, open_storage
from bot.storage.jobs import JobKind, JobState, NewJob
from tests.postgres import PostgresServer

INSTANCES = 2
"""Storages on one database, each making half the users' writes."""
RATE_WINDOW = 60.0
RATE_LIMIT = 20


async def measure_writes(config: BenchConfig, *, workdir: Path) -> list[WritesFigures]:
    """One user, then `config.writes_users` users, on databases of a server started for them
    (none without PostgreSQL's server binaries)."""
    server = postgres_server() if config.sharing_postgres else None
    if server is None:
        return []
    await asyncio.to_thread(server.start)
    try:
        return [
            await _users_writing(server, workdir=workdir, users=users, jobs=config.writes_jobs)
            for users in (1, config.writes_users)
        ]
    finally:
        await asyncio.to_thread(server.stop)


async def _users_writing(
    server: PostgresServer, *, workdir: Path, users: int, jobs: int
) -> WritesFigures:
    """Open INSTANCES storages on a new database of `server`, then time every user's jobs."""
    url = await server.create_database()
    storages = [
        await open_storage(
            data_dir=workdir / f"writes-{i}", keys_secret=KEYS_SECRET, database_url=url
        )
        for i in range(INSTANCES)
    ]
    try:
        started = time.perf_counter()
        latencies = await asyncio.gather(
            *(
                _user_jobs(storages[user % INSTANCES], user, jobs // users)
                for user in range(1, users + 1)
            )
        )
        seconds = time.perf_counter() - started
    finally:
        for storage in storages:
            await storage.close()
    every = [ms for user in latencies for ms in user]
    return WritesFigures(
        users=users,
        jobs=len(every),
        seconds=seconds,
        p50_ms=percentile(every, 50),
        p95_ms=percentile(every, 95),
    )


async def _user_jobs(storage: Storage, user_id: int, jobs: int) -> list[float]:
    """One user's jobs, each timed over its three write transactions (milliseconds)."""
    hits = shared_state(storage, several_instances=True).rate_hits
    taken: list[float] = []
    for n in range(jobs):
        start = time.perf_counter()
        # Spread over time so every hit is let through, as a user within the limit is.
        now = time.time() + n * RATE_WINDOW / RATE_LIMIT
        await hits.hit(user_id, now=now, window=RATE_WINDOW, limit=RATE_LIMIT, tell=True)
        job = await storage.jobs.create_within_limit(
            _job(user_id), now=now, since=now - 86400, limit=1_000_000
        )
        assert job is not None
        await storage.lines.admit(job, slots=2)
        # Ended at once, so the user's line stays as short as a real one.
        await storage.jobs.transition(job.id, to=JobState.CANCELLED, now=now)
        taken.append((time.perf_counter() - start) * 1000)
    return taken


def _job(user_id: int) -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE,
        provider="gptunnel",
        user_id=user_id,
        chat_id=user_id,
        chat_type="private",
        request_message_id=1,
        prompt="a lighthouse",
        options={},
        credential_source="operator",
        language="en",
    )
