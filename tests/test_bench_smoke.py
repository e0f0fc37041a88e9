"""The benchmark's smoke run (N = 5, short provider latencies): it completes and reports every
figure. The figures themselves are benchmark results (`make bench`), not timed tests."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from pathlib import Path

from bench import report
from bench.run import LONG_JOB, SMOKE, run_bench


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
        (LONG_JOB, SMOKE.long_job_users),
    ]
    for run in results.runs:
        assert run.completed == run.steps, run
        for field in dataclasses.fields(run):
            value = getattr(run, field.name)
            if field.name == "result_polls_per_job" and run.scenario.startswith("describe"):
                assert value is None  # no generation job in that run
            else:
                assert isinstance(value, int | float | str) and value == value, (field.name, run)
        assert run.wall_s >= run.floor_s
        assert run.peak_rss_mb > 20
        assert run.cpu_ms_per_job > 0
        assert run.provider_requests_per_job >= 1
        assert run.writes_per_job >= 1
        assert run.telegram_calls_per_job >= 1
    long_job = results.runs[-1]
    # 1 s, 1 s: a 2 s job is done at the second poll of the production schedule.
    assert long_job.result_polls_per_job == 2
    for bot in (results.throughput.iris, results.throughput.bare):
        assert bot.answered == bot.updates == 20
        assert bot.rate > 0
        assert bot.cpu_ms_per_update > 0
        assert bot.idle_rss_mb > 20
        assert [burst.n for burst in bot.bursts] == [5]
        assert all(burst.p99_ms >= burst.p50_ms > 0 for burst in bot.bursts)

    page = (tmp_path / "results" / "results.md").read_text()
    for heading in ("job overhead p50 / p99 ms", "peak RSS MB", "SQLite writes per job"):
        assert heading in page
    for verdict in report.verdicts(results):
        assert verdict.target in page
    assert page.count("| imagine | 5 |") == 1
    stored = json.loads((tmp_path / "results" / "results.json").read_text())
    assert len(stored["runs"]) == 7
    assert results.conversion_ms > 0
    assert results.aiogram_import_mb > 20
    assert "What stands in the way of the targets as written" in page
    assert not any(
        isinstance(v, float) and math.isnan(v) for run in stored["runs"] for v in run.values()
    )
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert (tmp_path / "results" / "chart.png" in written) is has_matplotlib
