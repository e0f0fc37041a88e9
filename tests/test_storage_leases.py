"""Job leases and users' lines in storage, on both backends: claims never overlap, renewals and
releases, fenced state changes, admission in order within USER_MAX_JOBS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage import Storage
from bot.storage.jobs import JobState, Lease
from tests.conftest import open_backend
from tests.test_storage import new_job

A, B = "instance-a", "instance-b"


@pytest.fixture
async def two(backend: dict[str, Any], tmp_path: Path) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two handles on one database, as two instances have (SQLite: one process, one handle)."""
    first = await open_backend(backend, tmp_path)
    second = await open_backend(backend, tmp_path) if backend else first
    yield first, second
    if second is not first:
        await second.close()
    await first.close()


async def test_a_new_job_is_held_by_its_lease_until_it_passes(storage: Storage) -> None:
    job = await storage.jobs.create(new_job(), now=100.0, lease=Lease(A, 130.0))
    assert await storage.leases.claim(Lease(B, 200.0), now=129.0, limit=10) == []
    claimed = await storage.leases.claim(Lease(B, 200.0), now=131.0, limit=10)
    assert [c.id for c in claimed] == [job.id]
    # Held by B now: A's renewal finds nothing, and A's state changes are refused.
    assert await storage.leases.renew(Lease(A, 300.0)) == set()
    assert await storage.leases.gone(A, [job.id]) == {job.id}
    assert not await storage.jobs.transition(job.id, to=JobState.SUBMITTING, now=132.0, owner=A)
    assert await storage.jobs.transition(job.id, to=JobState.SUBMITTING, now=132.0, owner=B)


async def test_renewal_keeps_unfinished_jobs_only(storage: Storage) -> None:
    running = await storage.jobs.create(new_job(), now=1.0, lease=Lease(A, 10.0))
    done = await storage.jobs.create(new_job(), now=1.0, lease=Lease(A, 10.0))
    assert await storage.jobs.transition(done.id, to=JobState.FAILED, now=2.0)
    assert await storage.leases.renew(Lease(A, 50.0)) == {running.id}
    assert await storage.leases.claim(Lease(B, 99.0), now=40.0, limit=10) == []
    assert await storage.leases.gone(A, [running.id, done.id]) == set()


async def test_a_job_cancelled_elsewhere_is_gone_for_its_owner(storage: Storage) -> None:
    job = await storage.jobs.create(new_job(), now=1.0, lease=Lease(A, 10.0))
    assert await storage.jobs.transition(job.id, to=JobState.CANCELLED, now=2.0)
    assert await storage.leases.gone(A, [job.id]) == {job.id}


async def test_release_lets_another_claim_at_once(storage: Storage) -> None:
    jobs = [await storage.jobs.create(new_job(), now=1.0, lease=Lease(A, 1000.0)) for _ in range(3)]
    assert await storage.leases.release(A) == 3
    claimed = await storage.leases.claim(Lease(B, 1100.0), now=2.0, limit=2)
    assert [job.id for job in claimed] == [jobs[0].id, jobs[1].id]  # oldest first, up to limit


async def test_untold_interruptions_are_claimed_once(storage: Storage) -> None:
    job = await storage.jobs.create(new_job(), now=1.0, lease=Lease(A, 5.0))
    assert await storage.jobs.transition(job.id, to=JobState.SUBMITTING, now=2.0)
    assert await storage.jobs.transition(job.id, to=JobState.INTERRUPTED, now=3.0)
    first = await storage.leases.claim_untold(Lease(B, 50.0), now=10.0, since=0.0)
    assert [j.id for j in first] == [job.id]
    assert await storage.leases.claim_untold(Lease(A, 60.0), now=11.0, since=0.0) == []
    await storage.jobs.set_result_message(job.id, 77)  # told
    assert await storage.leases.claim_untold(Lease(A, 90.0), now=70.0, since=0.0) == []


async def test_two_instances_racing_never_claim_one_job_twice(
    two: tuple[Storage, Storage],
) -> None:
    first, second = two
    created = [await first.jobs.create(new_job(), now=1.0) for _ in range(60)]

    async def grab(storage: Storage, owner: str) -> list[int]:
        taken: list[int] = []
        while batch := await storage.leases.claim(Lease(owner, 1e9), now=2.0, limit=7):
            taken += [job.id for job in batch]
            await asyncio.sleep(0)
        return taken

    rounds = await asyncio.gather(*(grab(s, o) for s, o in [(first, A), (second, B)] * 3))
    taken = [job_id for batch in rounds for job_id in batch]
    assert sorted(taken) == [job.id for job in created]  # every job, each exactly once
    assert all(rounds[i] or rounds[i + 1] for i in range(0, 6, 2))


async def test_jobs_are_admitted_in_order_within_the_users_slots(storage: Storage) -> None:
    jobs = [await storage.jobs.create(new_job(), now=1.0) for _ in range(4)]
    other_user = await storage.jobs.create(new_job(user_id=8), now=1.0)
    lines = storage.lines
    assert await lines.admit(jobs[0], slots=2)
    assert not await lines.admit(jobs[2], slots=2)  # jobs[1] came first
    assert await lines.admit(jobs[1], slots=2)
    assert not await lines.admit(jobs[2], slots=2)  # both slots taken
    assert await lines.admit(other_user, slots=2)  # another user's line
    assert await lines.admit(jobs[0], slots=2)  # already admitted: still holds its slot
    assert (await lines.place(jobs[2]), await lines.place(jobs[3])) == (1, 2)
    assert await lines.place(jobs[0]) is None
    assert await lines.waiting() == 2
    assert await storage.jobs.transition(jobs[0].id, to=JobState.DONE, now=2.0)
    assert not await lines.admit(jobs[3], slots=2)  # jobs[2] is next
    assert await lines.admit(jobs[2], slots=2)
    assert await storage.jobs.transition(jobs[3].id, to=JobState.CANCELLED, now=3.0)
    assert await lines.place(jobs[3]) is None
    assert await lines.waiting() == 0


async def test_racing_admissions_never_pass_the_users_slots(
    two: tuple[Storage, Storage],
) -> None:
    first, second = two
    jobs = [await first.jobs.create(new_job(), now=1.0) for _ in range(8)]
    outcomes = await asyncio.gather(
        *(s.lines.admit(job, slots=3) for job in jobs for s in (first, second))
    )
    ids = [job.id for job in jobs]
    admitted = sorted(
        {i for i, ok in zip([i for i in ids for _ in "ab"], outcomes, strict=True) if ok}
    )
    # Whatever order they ran in: never more than the slots, never one before an older one.
    assert admitted == ids[: len(admitted)]
    assert len(admitted) <= 3
    assert [await second.lines.admit(job, slots=3) for job in jobs] == [True] * 3 + [False] * 5
