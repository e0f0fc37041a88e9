"""Instances stopping together (a whole fleet shut down): a job one lets go of is not resumed by
another that is stopping too, and stays for the next instance to start."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.storage.jobs import JobRecord, JobState, Lease
from tests.conftest import Serve
from tests.harness import ALICE, BOB, GPTUNNEL_KEY
from tests.instances import imagine, started_chats, two_instances
from tests.postgres import job_leases


async def test_an_instance_stopping_resumes_no_job_another_lets_go_of(
    serve: Serve,
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A lease no test outlives: only letting go at a stop hands a job over.
    async with two_instances(
        serve, tmp_path, postgres_url, job_lease=600, gptunnel_api_key=GPTUNNEL_KEY
    ) as (iris, second):
        leases = second.storage.leases
        claim, claimed = leases.claim, asyncio.Event()

        async def watched(lease: Lease, *, now: float, limit: int) -> list[JobRecord]:
            jobs = await claim(lease, now=now, limit=limit)
            if jobs:
                claimed.set()
            return jobs

        monkeypatch.setattr(leases, "claim", watched)
        await second.runner.start()
        await started_chats(iris, ALICE, BOB)
        gptunnel = iris.gptunnel
        gptunnel.final_status = "processing"
        job = await iris.app.runner.enqueue(imagine("a lighthouse"))
        assert job is not None
        await iris.api.wait_until(lambda: any(t.polls for t in gptunnel.tasks.values()))
        # The second instance's paid call is in flight: its stop waits for it to settle.
        gptunnel.create_gate = asyncio.Event()
        assert await second.runner.enqueue(imagine("a harbour", BOB)) is not None
        await asyncio.wait_for(gptunnel.held.wait(), 10)
        stopping = asyncio.create_task(second.runner.stop())
        caplog.clear()
        caplog.set_level(logging.INFO, "bot.jobs.runner")
        await iris.app.runner.stop()  # lets go of its job while the second one is stopping
        polls = sum(t.polls for t in gptunnel.tasks.values())
        await asyncio.wait_for(claimed.wait(), 10)
        gptunnel.create_gate.set()
        await asyncio.wait_for(stopping, 15)
        assert sum(t.polls for t in gptunnel.tasks.values()) == polls
        assert [r for r in caplog.records if r.getMessage().startswith("resuming")] == []
        # Let go again at the second one's stop: the next instance to start takes it at once.
        assert (await job_leases(postgres_url))[job.id] == (JobState.POLLING.value, None, 0)
