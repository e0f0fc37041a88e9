"""The targets the benchmark checks, each against the figures of one run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.config import JOB_SCENARIOS, LONG_JOB, SPREAD_SCENARIOS, TELEGRAM_RATE
from bench.figures import RunFigures, ThroughputFigures
from bench.formats import ms
from bench.sharing_page import SHARING_CPU_RATIO, cpu_ratio

if TYPE_CHECKING:
    from bench.run import BenchResults

OVERHEAD_N = 100
OVERHEAD_P50_MS = 5.0
OVERHEAD_P99_MS = 25.0
WALL_SIZES = (100, 500)
WALL_RATIO = 1.1
COUNTED_N = 100
COUNTED_PER_JOB = 2.5
DELIVERY_P99_MS = 1000.0
DELIVERY_SCENARIOS = ("imagine-spread", "imagine-jpeg-spread")
SLACK_P50_S = 1.0
SLACK_POLLS = 20
SLACK_N = 100
"""The long-job run whose poll slack counts: by then the bot has learned the usual job time."""
LONG_JOB_SECONDS = 20.0
THROUGHPUT_SHARE = 0.5
RSS_N = 1000
RSS_MB = 150.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target, what was measured for it, and whether it is met (None: not run)."""

    target: str
    measured: str
    passed: bool | None


def verdicts(results: BenchResults) -> list[Verdict]:
    """Each target against the figures of this run."""
    runs = results.runs
    return [
        _flood(runs),
        _wall(runs),
        _counted(runs, results.config.long_job_seconds),
        _delivery(results),
        _slack(runs, results.config.long_job_seconds),
        _overhead(runs),
        _spread_overhead(results),
        _spread_update_overhead(results),
        _throughput(results.throughput),
        _memory(runs),
        _memory_growth(runs),
        _sharing_cost(results),
    ]


def find_run(runs: Sequence[RunFigures], scenario: str, n: int) -> RunFigures | None:
    """The run of `scenario` at `n`, if there was one."""
    return next((r for r in runs if r.scenario == scenario and r.n == n), None)


def _flood(runs: Sequence[RunFigures]) -> Verdict:
    target = "0 flood errors (429s received) in every run, Telegram's limits on"
    if not runs:
        return Verdict(target, "not run", None)
    worst = max(runs, key=lambda r: r.flood_errors)
    total = sum(r.flood_errors for r in runs)
    measured = f"{total} in {len(runs)} runs"
    if total:
        measured += f" (most: {worst.scenario} N = {worst.n}, {worst.flood_errors})"
    return Verdict(target, measured, total == 0)


def _wall(runs: Sequence[RunFigures]) -> Verdict:
    sizes = " and ".join(str(n) for n in WALL_SIZES)
    target = (
        f"wall ≤ {WALL_RATIO:g}× the true floor, max(provider time, counted calls ÷ "
        f"{TELEGRAM_RATE:g}/s), at N = {sizes}"
    )
    found = [
        r for s in (*JOB_SCENARIOS, LONG_JOB) for n in WALL_SIZES if (r := find_run(runs, s, n))
    ]
    if not found:
        return Verdict(target, "not run", None)
    measured = "; ".join(f"{r.scenario} {r.n}: {r.wall_ratio:.2f}×" for r in found)
    passed = all(r.completed == r.steps and r.wall_ratio <= WALL_RATIO for r in found)
    return Verdict(target, measured, passed)


def _counted(runs: Sequence[RunFigures], seconds: float) -> Verdict:
    target = (
        f"counted calls per job ≤ {COUNTED_PER_JOB:g} at N ≥ {COUNTED_N} "
        f"for {LONG_JOB_SECONDS:g} s jobs"
    )
    found = [r for r in runs if r.scenario == LONG_JOB and r.n >= COUNTED_N]
    if not found:
        return Verdict(target, "not run", None)
    measured = "; ".join(f"N = {r.n}: {r.counted_calls_per_job:.2f}" for r in found)
    if seconds != LONG_JOB_SECONDS:
        return Verdict(target, measured, None)
    return Verdict(target, measured, all(r.counted_calls_per_job <= COUNTED_PER_JOB for r in found))


def _delivery(results: BenchResults) -> Verdict:
    config = results.config
    target = (
        f"p99 from the result in hand to the photo's send ≤ {DELIVERY_P99_MS / 1000:g} s, "
        f"N = {config.spread_users} spread over {config.spread_seconds:g} s"
    )
    found = [r for r in results.runs if r.scenario in DELIVERY_SCENARIOS]
    if not found:
        return Verdict(target, "not run", None)
    measured = "; ".join(
        f"{r.scenario} p50 {ms(r.delivery_p50_ms)} / p99 {ms(r.delivery_p99_ms)} ms" for r in found
    )
    passed = all(
        r.delivery_p99_ms is not None and r.delivery_p99_ms <= DELIVERY_P99_MS for r in found
    )
    return Verdict(target, measured, passed)


def _slack(runs: Sequence[RunFigures], seconds: float) -> Verdict:
    target = (
        f"poll slack p50 ≤ {SLACK_P50_S:g} s with ≤ {SLACK_POLLS} polls for a "
        f"{LONG_JOB_SECONDS:g} s job (N = {SLACK_N}, the usual time learned)"
    )
    long_jobs = [r for r in runs if r.scenario == LONG_JOB]
    if not long_jobs:
        return Verdict(target, "not run", None)
    measured = "; ".join(
        f"N = {r.n}: slack p50 {_seconds(r.poll_slack_p50_s)} s, "
        f"{_seconds(r.result_polls_per_job)} polls"
        for r in long_jobs
    )
    run = find_run(runs, LONG_JOB, SLACK_N) or long_jobs[-1]
    if seconds != LONG_JOB_SECONDS or run.poll_slack_p50_s is None:
        return Verdict(target, measured, None)
    polls = run.result_polls_per_job or 0.0
    return Verdict(target, measured, run.poll_slack_p50_s <= SLACK_P50_S and polls <= SLACK_POLLS)


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _overhead(runs: Sequence[RunFigures]) -> Verdict:
    target = f"bot overhead per job at N = {OVERHEAD_N}: p50 ≤ {OVERHEAD_P50_MS:g} ms, "
    target += f"p99 ≤ {OVERHEAD_P99_MS:g} ms"
    found = [r for s in JOB_SCENARIOS if (r := find_run(runs, s, OVERHEAD_N)) is not None]
    return _overhead_verdict(target, found)


def _overhead_verdict(target: str, found: Sequence[RunFigures]) -> Verdict:
    """Each run's job overhead p50 / p99 against the targets."""
    if not found:
        return Verdict(target, "not run", None)
    measured = "; ".join(f"{r.scenario} {ms(r.job_p50_ms)} / {ms(r.job_p99_ms)} ms" for r in found)
    passed = all(r.job_p50_ms <= OVERHEAD_P50_MS and r.job_p99_ms <= OVERHEAD_P99_MS for r in found)
    return Verdict(target, measured, passed)


def _spread_overhead(results: BenchResults) -> Verdict:
    config = results.config
    target = (
        f"restated: the same for one job, not a queue — {config.spread_users} users arriving "
        f"over {config.spread_seconds:g} s"
    )
    return _overhead_verdict(target, [r for r in results.runs if r.scenario in SPREAD_SCENARIOS])


def _spread_update_overhead(results: BenchResults) -> Verdict:
    config = results.config
    target = (
        "restated: overhead per update (to the bot's first answer), the same "
        f"{config.spread_users} users over {config.spread_seconds:g} s"
    )
    found = [r for r in results.runs if r.scenario in SPREAD_SCENARIOS]
    if not found:
        return Verdict(target, "not run", None)
    measured = "; ".join(
        f"{r.scenario} {ms(r.update_p50_ms)} / {ms(r.update_p99_ms)} ms" for r in found
    )
    passed = all(
        r.update_p50_ms <= OVERHEAD_P50_MS and r.update_p99_ms <= OVERHEAD_P99_MS for r in found
    )
    return Verdict(target, measured, passed)


def _throughput(figures: ThroughputFigures) -> Verdict:
    target = f"update throughput ≥ {THROUGHPUT_SHARE:.0%} of the bare aiogram bot's (limits off)"
    measured = f"{figures.ratio:.0%} ({figures.iris.rate:.0f} vs {figures.bare.rate:.0f} updates/s)"
    return Verdict(target, measured, figures.ratio >= THROUGHPUT_SHARE)


def _memory(runs: Sequence[RunFigures]) -> Verdict:
    target = f"peak RSS ≤ {RSS_MB:g} MB with {RSS_N} jobs in flight"
    run = find_run(runs, "imagine", RSS_N)
    if run is None:
        return Verdict(target, "not run", None)
    measured = f"{run.peak_rss_mb:.0f} MB ({run.rss_per_job_kb:.0f} KB per job over the idle bot)"
    return Verdict(target, measured, run.peak_rss_mb <= RSS_MB)


def _memory_growth(runs: Sequence[RunFigures]) -> Verdict:
    target = f"restated: RSS growth over the idle bot ≤ {RSS_MB:g} MB with {RSS_N} jobs in flight"
    run = find_run(runs, "imagine", RSS_N)
    if run is None:
        return Verdict(target, "not run", None)
    growth = growth_mb(run)
    return Verdict(target, f"{growth:.0f} MB", growth <= RSS_MB)


def growth_mb(run: RunFigures) -> float:
    """RSS the run added over the idle bot."""
    return run.rss_per_job_kb * run.n / 1024


def _sharing_cost(results: BenchResults) -> Verdict:
    target = (
        f"PostgreSQL, one instance: CPU per job ≤ {SHARING_CPU_RATIO:g}× SQLite's "
        "(its database server included)"
    )
    ratio = cpu_ratio(results.sharing)
    if ratio is None:
        return Verdict(target, "not run", None)
    total, alone = ratio
    return Verdict(
        target, f"{total:.2f}× (Iris's process alone {alone:.2f}×)", total <= SHARING_CPU_RATIO
    )
