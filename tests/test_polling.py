"""The poll schedule learned from each provider's usual job time, and where that time is kept."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.jobs.durations import ProviderDurations
from bot.jobs.timing import Timing
from bot.storage import open_storage
from bot.storage.interfaces import Jobs
from bot.storage.jobs import JobKind, JobState, NewJob

TODAY = Timing()


def found(schedule: Iterator[float], ready: float) -> tuple[float, int]:
    """When a result ready `ready` seconds after the submit is noticed, and after how many polls."""
    at = 0.0
    for polls, delay in enumerate(schedule, start=1):
        at += delay
        if at >= ready:
            return at, polls
    raise AssertionError("unreachable: schedules never end")


def readiness(first: float, last: float) -> list[float]:
    """Times a result may be ready at, a tenth of a second apart."""
    return [first + tenth / 10 for tenth in range(round((last - first) * 10) + 1)]


def test_without_history_the_fixed_schedule_is_kept() -> None:
    delays = list(itertools.islice(TODAY.poll_schedule(None), 12))
    assert delays == [1, 1, 2, 2, 3, 3, 5, 5, 8, 8, 8, 8]
    assert found(TODAY.poll_schedule(), 20.0) == (22.0, 8)


def test_a_20_second_provider_is_noticed_within_a_second_with_few_polls() -> None:
    slacks, counts = [], []
    for ready in readiness(18.0, 22.0):
        at, polls = found(TODAY.poll_schedule(20.0), ready)
        slacks.append(at - ready)
        counts.append(polls)
    assert max(slacks) <= 1.0 + 1e-9
    assert max(counts) <= 20
    assert statistics.median(counts) <= 8
    # The fixed schedule noticed the same jobs up to 4.5 s late.
    fixed = [found(TODAY.poll_schedule(), ready)[0] - ready for ready in readiness(18.0, 22.0)]
    assert max(fixed) >= 4.0


def test_a_2_second_provider_is_noticed_within_a_second() -> None:
    for ready in readiness(0.5, 4.0):
        at, polls = found(TODAY.poll_schedule(2.0), ready)
        assert at - ready <= 1.0 + 1e-9
        assert polls <= 5


def test_a_fast_outlier_is_caught_by_the_early_look() -> None:
    at, polls = found(TODAY.poll_schedule(20.0), 9.0)
    assert (at, polls) == (10.0, 1)


def test_a_job_much_slower_than_usual_ends_on_the_back_off() -> None:
    delays = list(itertools.islice(TODAY.poll_schedule(20.0), 40))
    assert delays[-20:] == [8] * 20
    # After the close polls the waits grow again, as the fixed schedule's do.
    close = delays.index(2)
    assert delays[close - 3 : close] == [1, 1, 1]
    assert delays[close : close + 4] == [2, 3, 5, 8]
    _, polls = found(TODAY.poll_schedule(20.0), 120.0)
    _, fixed_polls = found(TODAY.poll_schedule(), 120.0)
    assert polls <= fixed_polls + 2


def test_the_back_off_never_exceeds_poll_max() -> None:
    timing = Timing(poll_max=4.0)
    assert max(itertools.islice(timing.poll_schedule(20.0), 50)) <= 10.0  # the early look
    assert list(itertools.islice(timing.poll_schedule(20.0), 30))[-10:] == [4.0] * 10


def test_a_resumed_job_skips_the_polls_already_due() -> None:
    assert next(TODAY.poll_schedule(20.0, elapsed=19.5)) == pytest.approx(0.5)
    assert next(TODAY.poll_schedule(20.0, elapsed=12.0)) == pytest.approx(6.0)
    assert next(TODAY.poll_schedule(20.0, elapsed=3600.0)) <= 8.0


def test_short_clocks_keep_a_learned_schedule_short() -> None:
    fast = Timing(poll_delays=(0.02,), poll_max=0.02)
    delays = list(itertools.islice(fast.poll_schedule(0.1), 30))
    assert delays[0] == pytest.approx(0.06)
    assert delays[1:] == pytest.approx([0.02] * 29)
    at, _ = found(fast.poll_schedule(0.1), 0.1)
    assert at <= 0.12 + 1e-9


def test_poll_delays_must_be_positive() -> None:
    for bad in ((), (0.0,), (1.0, -1.0)):
        with pytest.raises(ValueError, match="positive"):
            Timing(poll_delays=bad)


# Where the usual time comes from


def _job(provider: str = "gptunnel") -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE,
        provider=provider,
        user_id=7,
        chat_id=7,
        chat_type="private",
        prompt="a lighthouse",
        credential_source="own",
        language="en",
    )


async def _finished(jobs: Jobs, provider: str, *, started: float, took: float | None) -> int:
    """A job submitted at `started` whose result was found `took` seconds later (None: never)."""
    job = await jobs.create(_job(provider), now=started)
    assert await jobs.transition(job.id, to=JobState.POLLING, now=started, started_at=started)
    if took is not None:
        found_at = started + took
        assert await jobs.transition(
            job.id, to=JobState.DELIVERING, now=found_at, result_at=found_at
        )
    return job.id


async def test_recent_durations_newest_first_per_provider(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=None)
    jobs = storage.jobs
    for n, took in enumerate([5.0, 7.0, 6.0]):
        await _finished(jobs, "gptunnel", started=100.0 * n, took=took)
    await _finished(jobs, "gptunnel", started=400.0, took=None)
    await _finished(jobs, "ailuna", started=500.0, took=30.0)
    assert await jobs.recent_durations("gptunnel", limit=10) == [6.0, 7.0, 5.0]
    assert await jobs.recent_durations("gptunnel", limit=2) == [6.0, 7.0]
    assert await jobs.recent_durations("codexaeternum", limit=10) == []
    await storage.close()


async def test_a_result_found_again_keeps_its_first_time(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=None)
    job_id = await _finished(storage.jobs, "gptunnel", started=10.0, took=4.0)
    # After a restart lost the kept file, the result is fetched again much later.
    assert await storage.jobs.transition(job_id, to=JobState.DELIVERING, now=500.0, result_at=500.0)
    assert await storage.jobs.duration(job_id) == 4.0
    await storage.close()


async def test_the_usual_time_is_the_median_of_the_recent_results(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=None)
    for n, took in enumerate([90.0, 20.0, 21.0, 19.0]):
        await _finished(storage.jobs, "gptunnel", started=100.0 * n, took=took)
    durations = await ProviderDurations.load(storage.jobs, ["gptunnel", "ailuna"], window=3)
    assert durations.usual("gptunnel") == 20.0  # the oldest, an outlier, is out of the window
    assert durations.usual("ailuna") is None
    # Learned in memory as results are found: no read at each poll.
    for n, took in enumerate([2.0, 3.0], start=10):
        job_id = await _finished(storage.jobs, "ailuna", started=100.0 * n, took=took)
        await durations.learn("ailuna", job_id)
    assert durations.usual("ailuna") == 2.5
    slow = await _finished(storage.jobs, "gptunnel", started=2000.0, took=40.0)
    await durations.learn("gptunnel", slow)
    assert durations.usual("gptunnel") == 21.0
    await storage.close()


async def test_the_usual_time_survives_a_restart(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=None)
    durations = await ProviderDurations.load(storage.jobs, ["gptunnel"])
    assert durations.usual("gptunnel") is None
    for n, took in enumerate([12.0, 14.0, 13.0]):
        job_id = await _finished(storage.jobs, "gptunnel", started=100.0 * n, took=took)
        await durations.learn("gptunnel", job_id)
    assert durations.usual("gptunnel") == 13.0
    await storage.close()

    reopened = await open_storage(data_dir=tmp_path, keys_secret=None)
    again = await ProviderDurations.load(reopened.jobs, ["gptunnel"])
    assert again.usual("gptunnel") == 13.0
    await reopened.close()
