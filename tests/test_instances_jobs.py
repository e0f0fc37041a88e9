"""Jobs shared by two instances on one PostgreSQL database: users' lines, cancels, hand-overs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.storage.jobs import JobState
from tests.checks import text_has
from tests.conftest import Serve
from tests.harness import ALICE, GPTUNNEL_KEY, Iris
from tests.instances import imagine, polling_on, started_chats, two_instances

LEASE = 0.6
"""JOB_LEASE for these tests: renewed every 0.2 s, so hand-overs come within a test's patience."""


async def _finishes_once(iris: Iris, job_id: int) -> None:
    """Let the provider finish: the job is delivered to Alice once, from the one task created."""
    iris.gptunnel.final_status = "done"
    photo = await iris.api.wait_for("sendPhoto", timeout=5)
    assert int(photo.params["chat_id"]) == ALICE.id
    await iris.settled()
    assert (await iris.job(job_id)).state == JobState.DONE
    assert len(iris.gptunnel.tasks) == 1  # polled on, never created again
    assert len(iris.api.calls_of("sendPhoto")) == 1


async def test_a_users_slots_and_order_hold_across_instances(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(
        serve, tmp_path, postgres_url, user_max_jobs=1, gptunnel_api_key=GPTUNNEL_KEY
    ) as (iris, second):
        await second.runner.start()
        await started_chats(iris, ALICE)
        iris.gptunnel.final_status = "processing"
        await iris.app.runner.enqueue(imagine("first"))
        await iris.api.wait_until(lambda: len(iris.gptunnel.tasks) == 1)
        mark = iris.api.mark()
        waiting = await second.runner.enqueue(imagine("second"))
        assert waiting is not None
        await iris.api.wait_for("sendMessage", where=text_has("number 1 in line"), after=mark)
        later = await iris.app.runner.enqueue(imagine("third"))
        assert later is not None
        await iris.api.wait_for("sendMessage", where=text_has("number 2 in line"), after=mark)
        assert len(iris.gptunnel.tasks) == 1  # neither waiting job reached the provider
        iris.gptunnel.final_status = "done"
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 3)
        assert [t.prompt for t in iris.gptunnel.tasks.values()] == ["first", "second", "third"]


async def test_a_cancel_on_one_instance_stops_the_job_on_the_other(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with two_instances(
        serve, tmp_path, postgres_url, job_lease=LEASE, gptunnel_api_key=GPTUNNEL_KEY
    ) as (iris, second):
        job = await polling_on(iris, second, "a slow comet")
        stored = await iris.app.storage.jobs.get(job.id)
        assert stored is not None
        assert await iris.app.runner.cancel(stored)
        # The instance running it sees at its next renewal that the job is gone, and stops.
        await iris.api.wait_until(lambda: second.runner.idle, timeout=5)
        iris.gptunnel.final_status = "done"
        polls = sum(t.polls for t in iris.gptunnel.tasks.values())
        await iris.app.runner.stop()  # the polling bot's own runner must not pick it up either
        assert (await iris.job(job.id)).state == JobState.CANCELLED
        assert sum(t.polls for t in iris.gptunnel.tasks.values()) == polls
        assert iris.api.calls_of("sendPhoto") == []


async def test_a_job_let_go_at_a_graceful_stop_is_resumed_by_the_other_instance_at_once(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    # A lease no test outlives: only letting go at the stop explains the hand-over.
    async with two_instances(
        serve, tmp_path, postgres_url, job_lease=600, gptunnel_api_key=GPTUNNEL_KEY
    ) as (iris, second):
        job = await polling_on(iris, second, "a lighthouse")
        await second.runner.stop()
        assert (await iris.job(job.id)).state == JobState.POLLING
        await _finishes_once(iris, job.id)


async def test_an_instance_cut_off_from_the_database_stops_its_job_before_another_resumes_it(
    serve: Serve,
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.jobs")
    async with two_instances(
        serve, tmp_path, postgres_url, job_lease=LEASE, gptunnel_api_key=GPTUNNEL_KEY
    ) as (iris, second):
        job = await polling_on(iris, second, "a lost signal")

        async def unreachable(*args: object, **kwargs: object) -> set[int]:
            raise ConnectionResetError

        monkeypatch.setattr(second.storage.leases, "renew", unreachable)
        await iris.api.wait_until(lambda: second.runner.idle, timeout=5)
        await _finishes_once(iris, job.id)
        messages = [r.getMessage() for r in caplog.records]
        stopped = next(i for i, m in enumerate(messages) if "lapsing unrenewed" in m)
        resumed = next(i for i, m in enumerate(messages) if "resuming in state" in m)
        assert stopped < resumed
