"""Two instances starting together on many jobs whose leases have passed: each job runs on one
of them only, and is delivered once."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import create_application
from bot.jobs import leases
from bot.jobs.timing import Timing
from bot.storage.jobs import JobKind, NewJob
from playground.providers.server import RecordedRequest
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import ALICE, GPTUNNEL_KEY, iris_running

JOBS = 40
KEYS = ("shds-FAKEinstanceB0123456789abcdef", "shds-FAKEinstanceC0123456789abcdef")
"""Each racing instance's operator key: the provider fake tells their polls apart by it."""
TIMING = Timing(poll_delays=(0.1,), poll_max=0.1, progress_every=5, action_every=5)
"""Polls every 0.1 s: 40 jobs on two instances stay light on a small machine."""
POLLS_EACH = 3
"""Polls every job gets on its instance before its result is ready: room to see a second one."""


def _imagine(number: int) -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE, provider="gptunnel", user_id=ALICE.id, chat_id=ALICE.id,
        chat_type="private", prompt=f"comet number {number}", credential_source="operator",
        language="en",
    )  # fmt: skip


def _pollers(requests: list[RecordedRequest]) -> dict[str, set[str]]:
    """The keys each task was polled with."""
    keys: defaultdict[str, set[str]] = defaultdict(set)
    for request in requests:
        if request.path == "/v1/media/result":
            keys[request.json()["task_id"]].add(request.headers["Authorization"])
    return keys


def _polled_each(requests: list[RecordedRequest]) -> bool:
    """Whether every job was polled POLLS_EACH times in these requests."""
    counts = Counter(r.json()["task_id"] for r in requests if r.path == "/v1/media/result")
    return len(counts) == JOBS and min(counts.values()) >= POLLS_EACH


async def test_two_instances_racing_for_lapsed_jobs_run_each_once(
    serve: Serve, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small claim batches: the two claim loops interleave, racing for the jobs at every batch.
    monkeypatch.setattr(leases, "CLAIM_BATCH", 3)
    async with iris_running(
        serve, tmp_path, timing=TIMING, database_url=postgres_url, keys_secret=TEST_KEYS_SECRET,
        gptunnel_api_key=GPTUNNEL_KEY, user_max_jobs=JOBS, operator_daily_limit=JOBS,
    ) as iris:  # fmt: skip
        gptunnel = iris.gptunnel
        gptunnel.other_keys = KEYS
        gptunnel.final_status = "processing"
        await iris.say(ALICE, "/start")  # Telegram knows the chat from now on
        await iris.reply(ALICE.id)
        for number in range(JOBS):
            assert await iris.app.runner.enqueue(_imagine(number)) is not None
        await iris.api.wait_until(
            lambda: len(gptunnel.tasks) == JOBS and all(t.polls for t in gptunnel.tasks.values()),
            timeout=30,
        )
        # The instance that created them stops and lets go: their leases have passed, the jobs
        # stay polling.
        await iris.app.runner.stop()
        provider = iris.servers["gptunnel"]
        released = len(provider.requests)
        racers = [
            await create_application(
                iris.settings.model_copy(
                    update={
                        "gptunnel_api_key": SecretStr(key),
                        "job_lease": 5.0,
                        "data_dir": tmp_path / key[-4:],
                    }
                ),
                timing=TIMING,
                pacing=iris.pacing,
            )
            for key in KEYS
        ]
        try:
            await asyncio.gather(*(racer.runner.start() for racer in racers))
            async with asyncio.timeout(30):
                while not _polled_each(provider.requests[released:]):
                    gptunnel.polled.clear()
                    await gptunnel.polled.wait()
            gptunnel.final_status = "done"
            await iris.api.wait_until(
                lambda: (
                    len(iris.api.calls_of("sendPhoto")) >= JOBS
                    and all(r.runner.idle for r in racers)
                ),
                timeout=30,
            )
        finally:
            for racer in racers:
                await racer.close()
        taken = _pollers(provider.requests[released:])
        assert sorted(taken) == sorted(gptunnel.tasks)
        assert set().union(*taken.values()) == set(KEYS)  # a race: both instances won jobs
        assert {task: len(keys) for task, keys in taken.items() if len(keys) > 1} == {}
        captions = Counter(c.params["caption"] for c in iris.api.calls_of("sendPhoto"))
        assert len(captions) == JOBS
        assert set(captions.values()) == {1}
        assert len(provider.calls("POST", "/v1/media/create")) == JOBS
