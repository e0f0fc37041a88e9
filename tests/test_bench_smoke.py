"""The benchmark's smoke run (N = 5, short provider latencies, Telegram's flood limits on): it
completes and reports every figure. The figures themselves are benchmark results (`make bench`),
not timed tests."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from pathlib import Path

from bench import report, targets
from bench.config import LONG_JOB, SMOKE
from bench.run import run_bench
from bench.stored import load_results

NOT_FOR_DESCRIBE = frozenset({"result_polls_per_job", "poll_slack_p50_s", "poll_slack_p99_s"})
"""Figures of generation jobs: None in a run without one."""


async def test_the_smoke_run_completes_and_reports_every_figure(tmp_path: Path) -> None:
    results = await run_bench(SMOKE, workdir=tmp_path / "work")
    written = report.write(results, tmp_path / "results")

    assert [(r.scenario, r.n) for r in results.runs] == [
        ("imagine", 5),
        ("describe", 5),
        ("mix", 5),
        ("imagine-spread", SMOKE.spread_users),
        ("imagine-jpeg-spread", SMOKE.spread_users),
        ("describe-spread", SMOKE.spread_users),
        *((LONG_JOB, n) for n in SMOKE.long_job_sizes),
    ]
    for run in results.runs:
        assert run.completed == run.steps, run
        for field in dataclasses.fields(run):
            value = getattr(run, field.name)
            if field.name in NOT_FOR_DESCRIBE and run.scenario.startswith("describe"):
                assert value is None  # no generation job in that run
            else:
                assert isinstance(value, int | float | str) and value == value, (field.name, run)
        assert run.wall_s >= run.provider_s
        assert run.floor_s >= run.provider_s
        assert run.floor_s >= run.n * run.counted_calls_per_job / 30
        assert run.flood_errors == 0, run
        # A status message and the result, at least, are counted by Telegram.
        assert run.counted_calls_per_job >= 2, run
        delivery = (run.delivery_p50_ms, run.delivery_p99_ms)
        assert delivery[0] is not None and delivery[1] is not None, run
        assert delivery[1] >= delivery[0] > 0
        assert run.peak_rss_mb > 20
        assert run.cpu_ms_per_job > 0
        assert run.provider_requests_per_job >= 1
        assert run.writes_per_job >= 1
        assert run.telegram_calls_per_job >= 1
    long_job = results.runs[-1]
    # 1 s, 1 s: a 2 s job is done at the second poll of the production schedule.
    assert long_job.result_polls_per_job == 2
    assert long_job.poll_slack_p50_s is not None and 0 <= long_job.poll_slack_p50_s < 1
    for bot in (results.throughput.iris, results.throughput.bare):
        assert bot.answered == bot.updates == 20
        assert bot.rate > 0
        assert bot.cpu_ms_per_update > 0
        assert bot.idle_rss_mb > 20
        assert [burst.n for burst in bot.bursts] == [5]
        assert all(burst.p99_ms >= burst.p50_ms > 0 for burst in bot.bursts)

    assert [(s.backend, s.instances) for s in results.sharing][:1] == [("sqlite", 1)]
    for setup in results.sharing:
        assert setup.answered == setup.updates == 20, setup
        assert setup.done == setup.jobs == SMOKE.sharing_jobs, setup
        assert setup.flood_errors == 0, setup
        assert setup.cpu_ms_per_update > 0 and setup.cpu_ms_per_job > 0, setup
        assert len(setup.peak_rss_mb) == setup.instances and min(setup.peak_rss_mb) > 20, setup
        assert setup.budget_jobs_per_s > 0, setup
    ran_postgres = any(setup.backend == "postgres" for setup in results.sharing)
    assert [f.users for f in results.writes] == ([1, SMOKE.writes_users] if ran_postgres else [])
    for figures in results.writes:
        assert figures.jobs == SMOKE.writes_jobs, figures
        assert figures.p95_ms >= figures.p50_ms > 0 and figures.jobs_per_s > 0, figures

    page = (tmp_path / "results" / "results.md").read_text()
    for heading in (
        "job overhead p50 / p99 ms",
        "peak RSS MB",
        "SQLite writes per job",
        "429s",
        "counted calls per job",
        "true floor s",
        "result → send p50 / p99 ms",
        "poll slack p50 / p99 s",
        "## Sharing the work",
    ):
        assert heading in page
    assert ("## Write transactions of many users" in page) is ran_postgres
    for verdict in targets.verdicts(results):
        assert verdict.target in page
    assert page.count("| imagine | 5 |") == 1
    stored = json.loads((tmp_path / "results" / "results.json").read_text())
    again = load_results(tmp_path / "results" / "results.json")
    assert (again.sharing, again.writes) == (results.sharing, results.writes)
    assert len(stored["runs"]) == 7
    assert results.conversion_ms > 0
    assert results.aiogram_import_mb > 20
    assert "What stands in the way of the targets as written" in page
    assert not any(
        isinstance(v, float) and math.isnan(v) for run in stored["runs"] for v in run.values()
    )
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert (tmp_path / "results" / "chart.png" in written) is has_matplotlib
