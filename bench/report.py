"""The results as a markdown table with the targets, a JSON file, and a PNG chart."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.figures import MessageFigures, RunFigures, ThroughputFigures
from bench.run import LONG_JOB, SPREAD_SCENARIOS, BenchResults

OVERHEAD_N = 100
OVERHEAD_P50_MS = 5.0
OVERHEAD_P99_MS = 25.0
WALL_N = 500
WALL_RATIO = 1.2
THROUGHPUT_SHARE = 0.5
RSS_N = 1000
RSS_MB = 150.0
LONG_JOB_SECONDS = 20.0
LONG_JOB_POLLS = 12
JOB_SCENARIOS = ("imagine", "describe", "mix")


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target of the issue, what was measured for it, and whether it is met (None: not run)."""

    target: str
    measured: str
    passed: bool | None


def verdicts(results: BenchResults) -> list[Verdict]:
    """Each target against the figures of this run."""
    return [
        _overhead(results.runs),
        _spread_overhead(results),
        _spread_update_overhead(results),
        _wall(results.runs),
        _throughput(results.throughput),
        _memory(results.runs),
        _memory_growth(results.runs),
        _polls(results.runs, results.config.long_job_seconds),
    ]


def _run(runs: Sequence[RunFigures], scenario: str, n: int) -> RunFigures | None:
    return next((r for r in runs if r.scenario == scenario and r.n == n), None)


def _overhead(runs: Sequence[RunFigures]) -> Verdict:
    target = f"bot overhead per job at N = {OVERHEAD_N}: p50 ≤ {OVERHEAD_P50_MS:g} ms, "
    target += f"p99 ≤ {OVERHEAD_P99_MS:g} ms"
    found = [r for s in JOB_SCENARIOS if (r := _run(runs, s, OVERHEAD_N)) is not None]
    return _overhead_verdict(target, found)


def _overhead_verdict(target: str, found: Sequence[RunFigures]) -> Verdict:
    """Each run's job overhead p50 / p99 against the targets."""
    if not found:
        return Verdict(target, "not run", None)
    measured = "; ".join(
        f"{r.scenario} {_ms(r.job_p50_ms)} / {_ms(r.job_p99_ms)} ms" for r in found
    )
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
        f"{r.scenario} {_ms(r.update_p50_ms)} / {_ms(r.update_p99_ms)} ms" for r in found
    )
    passed = all(
        r.update_p50_ms <= OVERHEAD_P50_MS and r.update_p99_ms <= OVERHEAD_P99_MS for r in found
    )
    return Verdict(target, measured, passed)


def _wall(runs: Sequence[RunFigures]) -> Verdict:
    target = f"{WALL_N} concurrent 2 s jobs all done within {WALL_RATIO:g}× the floor"
    run = _run(runs, "imagine", WALL_N)
    if run is None:
        return Verdict(target, "not run", None)
    complete = run.completed == run.steps
    measured = f"{run.wall_ratio:.2f}× ({run.wall_s:.2f} s for a {run.floor_s:g} s floor)"
    if not complete:
        measured += f", only {run.completed} of {run.steps} done"
    return Verdict(target, measured, complete and run.wall_ratio <= WALL_RATIO)


def _throughput(figures: ThroughputFigures) -> Verdict:
    target = f"update throughput ≥ {THROUGHPUT_SHARE:.0%} of the bare aiogram bot's"
    measured = f"{figures.ratio:.0%} ({figures.iris.rate:.0f} vs {figures.bare.rate:.0f} updates/s)"
    return Verdict(target, measured, figures.ratio >= THROUGHPUT_SHARE)


def _memory(runs: Sequence[RunFigures]) -> Verdict:
    target = f"peak RSS ≤ {RSS_MB:g} MB with {RSS_N} jobs in flight"
    run = _run(runs, "imagine", RSS_N)
    if run is None:
        return Verdict(target, "not run", None)
    measured = f"{run.peak_rss_mb:.0f} MB ({run.rss_per_job_kb:.0f} KB per job over the idle bot)"
    return Verdict(target, measured, run.peak_rss_mb <= RSS_MB)


def _memory_growth(runs: Sequence[RunFigures]) -> Verdict:
    target = f"restated: RSS growth over the idle bot ≤ {RSS_MB:g} MB with {RSS_N} jobs in flight"
    run = _run(runs, "imagine", RSS_N)
    if run is None:
        return Verdict(target, "not run", None)
    growth = _growth_mb(run)
    return Verdict(target, f"{growth:.0f} MB", growth <= RSS_MB)


def _growth_mb(run: RunFigures) -> float:
    return run.rss_per_job_kb * run.n / 1024


def _polls(runs: Sequence[RunFigures], seconds: float) -> Verdict:
    target = f"a {LONG_JOB_SECONDS:g}-second job costs ≤ {LONG_JOB_POLLS} result polls"
    run = next((r for r in runs if r.scenario == LONG_JOB), None)
    if run is None or run.result_polls_per_job is None:
        return Verdict(target, "not run", None)
    measured = f"{run.result_polls_per_job:.1f} polls for a {seconds:g} s job"
    if seconds != LONG_JOB_SECONDS:
        return Verdict(target, measured, None)
    return Verdict(target, measured, run.result_polls_per_job <= LONG_JOB_POLLS)


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f}"


def _mark(passed: bool | None) -> str:
    return {True: "✅ met", False: "❌ missed", None: "– not measured"}[passed]


def _optional(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown(results: BenchResults, *, baseline: dict[str, Any] | None = None) -> str:
    """The whole results page."""
    config = results.config
    lines = [
        "# Iris benchmark results",
        "",
        f"`python -m bench` on {_machine()}, {time.strftime('%Y-%m-%d')}, commit {_commit()}; "
        f"load average {results.load[0]:.1f} before, {results.load[1]:.1f} after (other work on "
        "the machine slows both bots and inflates the overheads).",
        f"GPTunnel jobs take {config.imagine_seconds:g} s from create to result (polled on the "
        f"production schedule); DescribePicture answers after {config.describe_seconds:g} s; "
        f"AiLuna after {config.ailuna_seconds:g} s per request. Result image "
        f"{results.result_kb:.0f} KB (1024×1024 WebP), user photo {results.photo_kb:.0f} KB "
        "(1280×960 JPEG). Iris runs in its own process (`python -m bench.iris_bot`, the code path "
        "of `python -m bot`), the fakes and the simulated users in the benchmark's process.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {v.target} | {v.measured} | {_mark(v.passed)} |" for v in verdicts(results)),
        "",
        "## Answering messages",
        "",
        f'`/help` (Iris) or any text (the bare bot, which only answers "ok"): first N users '
        "send one message each at the same moment, then "
        f"{results.throughput.iris.updates} messages from {config.throughput_users} users are "
        "queued at once and timed until the last answer.",
        "",
        "| bot | idle RSS MB | queue: answered | seconds | updates/s | CPU ms per update "
        "| harness CPU |",
        "|---|---|---|---|---|---|---|",
        _messages_row(results.throughput.iris),
        _messages_row(results.throughput.bare),
        "",
        f"Iris handles **{results.throughput.ratio:.0%}** of the bare bot's rate.",
        "",
        "| N at once | Iris answer p50 / p99 ms | bare bot answer p50 / p99 ms |",
        "|---|---|---|",
        *_burst_rows(results.throughput),
        "",
        "## Jobs",
        "",
        "| scenario | N | done | wall s | wall / floor | update overhead p50 / p99 ms "
        "| job overhead p50 / p99 ms | peak RSS MB | RSS per job KB | CPU ms per job "
        "| provider requests per job | result polls per job | SQLite writes per job "
        "| Bot API calls per job | harness CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_run_row(run) for run in results.runs),
        "",
        *_bounds(results),
        *_comparison(results, baseline),
        *DEFINITIONS,
    ]
    return "\n".join(lines) + "\n"


def _messages_row(figures: MessageFigures) -> str:
    cells = [
        figures.bot,
        f"{figures.idle_rss_mb:.0f}",
        f"{figures.answered}/{figures.updates}",
        f"{figures.seconds:.2f}",
        f"{figures.rate:.0f}",
        f"{figures.cpu_ms_per_update:.2f}",
        f"{figures.harness_cpu_share:.0%}",
    ]
    return "| " + " | ".join(cells) + " |"


def _burst_rows(figures: ThroughputFigures) -> list[str]:
    bare = {burst.n: burst for burst in figures.bare.bursts}
    rows = []
    for burst in figures.iris.bursts:
        other = bare.get(burst.n)
        theirs = "–" if other is None else f"{_ms(other.p50_ms)} / {_ms(other.p99_ms)}"
        rows.append(f"| {burst.n} | {_ms(burst.p50_ms)} / {_ms(burst.p99_ms)} | {theirs} |")
    return rows


def _run_row(run: RunFigures) -> str:
    cells = [
        run.scenario,
        str(run.n),
        f"{run.completed}/{run.steps}",
        f"{run.wall_s:.2f}",
        f"{run.wall_ratio:.2f}",
        f"{_ms(run.update_p50_ms)} / {_ms(run.update_p99_ms)}",
        f"{_ms(run.job_p50_ms)} / {_ms(run.job_p99_ms)}",
        f"{run.peak_rss_mb:.0f}",
        f"{run.rss_per_job_kb:.0f}",
        f"{run.cpu_ms_per_job:.1f}",
        f"{run.provider_requests_per_job:.2f}",
        _optional(run.result_polls_per_job),
        f"{run.writes_per_job:.1f}",
        f"{run.telegram_calls_per_job:.1f}",
        f"{run.harness_cpu_share:.0%}",
    ]
    return "| " + " | ".join(cells) + " |"


def _bounds(results: BenchResults) -> list[str]:
    """Why the targets as written cannot hold on this machine, from this run's own figures."""
    cores = os.cpu_count() or 1
    lines = ["## What stands in the way of the targets as written", ""]
    burst = _run(results.runs, "imagine", OVERHEAD_N)
    if burst is not None:
        busy = burst.n * burst.cpu_ms_per_job / cores
        lines.append(
            f"- **{OVERHEAD_N} jobs at the same instant.** Each imagine job costs "
            f"{burst.cpu_ms_per_job:.1f} ms of CPU, {results.conversion_ms:.1f} ms of it the "
            "conversion of the WebP result that the SPEC says Telegram does not take as a photo "
            f"(mostly the WebP decode). {burst.n} results due at the same moment need "
            f"{busy:.0f} ms of CPU on {cores} cores with everything else idle, so the median "
            f"one waits at least {busy / 2:.0f} ms: a p50 of {OVERHEAD_P50_MS:g} ms would need "
            f"under {2 * OVERHEAD_P50_MS * cores / burst.n:.2f} ms of CPU per job. The spread "
            "runs measure one job's overhead without that queue."
        )
    wall = _run(results.runs, "imagine", WALL_N)
    if wall is not None:
        delivery = wall.n * results.conversion_ms / cores / 1000
        slack = (WALL_RATIO - 1) * wall.floor_s
        lines.append(
            f"- **{WALL_N} jobs within {WALL_RATIO:g}× the floor.** The conversions alone, which "
            f"can only start when the results exist, take {wall.n} × "
            f"{results.conversion_ms:.1f} ms / {cores} cores = {delivery:.1f} s after the "
            f"{wall.floor_s:g} s floor, against {slack:.1f} s of allowance; the event loop's "
            f"own share ({wall.cpu_ms_per_job - results.conversion_ms:.1f} ms per job) runs on "
            "one core on top."
        )
    tp = results.throughput
    lines.append(
        f"- **Throughput.** The bare bot spends {tp.bare.cpu_ms_per_update:.2f} ms of CPU per "
        f"update; Iris {tp.iris.cpu_ms_per_update:.2f} ms for /help (user record, rate limit, "
        "language, the user's keys, a 20-line answer), all in one event loop."
    )
    memory = _run(results.runs, "imagine", RSS_N)
    lines.append(
        f"- **Memory.** A Python process that only imports aiogram peaks at "
        f"{results.aiogram_import_mb:.0f} MB (its ~300 pydantic models); the bare bot idles at "
        f"{tp.bare.idle_rss_mb:.0f} MB and Iris at {tp.iris.idle_rss_mb:.0f} MB, so "
        f"{RSS_MB:g} MB in all is out of reach before the first job"
        + (
            f"; {memory.n} jobs add {_growth_mb(memory):.0f} MB "
            f"({memory.rss_per_job_kb:.0f} KB each)."
            if memory is not None
            else "."
        )
    )
    return [*lines, ""]


def _comparison(results: BenchResults, baseline: dict[str, Any] | None) -> list[str]:
    """Before → after for the figures the targets name, when a baseline is given."""
    if baseline is None:
        return []
    before = {(r["scenario"], r["n"]): r for r in baseline["runs"]}
    rows = [
        _comparison_row(run, old)
        for run in results.runs
        if (old := before.get((run.scenario, run.n))) is not None
    ]
    old_share = float(baseline["throughput"]["ratio"])
    share = f"Throughput share of the bare bot: {old_share:.0%} → {results.throughput.ratio:.0%}."
    table = [
        "| scenario | N | job overhead p50 ms | job overhead p99 ms | wall / floor "
        "| peak RSS MB | CPU ms per job | SQLite writes per job |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    return [
        "## Before → after",
        "",
        f"Before: {baseline['meta']['when']}, commit {baseline['meta']['commit']}.",
        "",
        *(table if rows else []),
        share,
        "",
    ]


def _comparison_row(run: RunFigures, old: dict[str, Any]) -> str:
    old_ratio = old["wall_s"] / old["floor_s"] if old["floor_s"] else math.nan
    cells = [
        f"{_ms(old['job_p50_ms'])} → {_ms(run.job_p50_ms)}",
        f"{_ms(old['job_p99_ms'])} → {_ms(run.job_p99_ms)}",
        f"{old_ratio:.2f} → {run.wall_ratio:.2f}",
        f"{old['peak_rss_mb']:.0f} → {run.peak_rss_mb:.0f}",
        f"{old['cpu_ms_per_job']:.1f} → {run.cpu_ms_per_job:.1f}",
        f"{old['writes_per_job']:.1f} → {run.writes_per_job:.1f}",
    ]
    return f"| {run.scenario} | {run.n} | " + " | ".join(cells) + " |"


DEFINITIONS = [
    "## What the figures mean",
    "",
    "- **update overhead**: from the moment the user's update is queued at the fake Bot API to "
    "the bot's first answer (a job's status message, a gallery page), less the time the fakes "
    "were busy for that user meanwhile.",
    "- **job overhead**: the same up to the result (the photo, the description, the gallery "
    "card) arriving at the fake Bot API. Fake time is the union of the fakes' request spans for "
    "that user and, for GPTunnel, the job's own duration from its create; calls made beside the "
    "critical path (chat actions, progress edits, callback answers) are not counted as fake "
    "time. What is left is the bot's own time: handling, SQLite, HTTP on its side, queueing in "
    "its event loop, and slack in the poll schedule.",
    "- **wall / floor**: from the first request to the last result, over the provider's own time "
    "for one job (mix: the slowest flow).",
    "- **peak RSS**: the bot process's VmHWM during the run (reset just before it); **RSS per "
    "job**: (peak − RSS before the run) / N.",
    "- **CPU ms per job**: user + system CPU of the bot process during the run, over N.",
    "- **provider requests per job**: every request to GPTunnel, DescribePicture and AiLuna, "
    "polls and downloads included, over N; **result polls**: GPTunnel result calls per "
    "generation job.",
    "- **SQLite writes per job**: committed statements that changed rows, over N.",
    "- **harness CPU**: CPU of the benchmark's own process (fakes and simulated users) over the "
    "run's wall time; near 100% the harness, not the bot, may be what limits the figures.",
    "- **spread** scenarios: the users' first messages evenly spaced over the spread time "
    "instead of all at once; imagine-jpeg-spread has GPTunnel hand back a JPEG, which goes to "
    "Telegram unconverted, to show the bot's overhead apart from the WebP conversion.",
    "- mix: users take turns at /imagine, a photo to describe, and gallery browsing (/gallery, "
    "Next ▶️, open an image); a gallery user's three clicks count as one job for per-job costs "
    "and as three steps for overhead.",
    "",
]


def to_json(results: BenchResults) -> dict[str, Any]:
    """Everything measured, for a later run to compare against."""
    return {
        "meta": {"when": time.strftime("%Y-%m-%d %H:%M"), "commit": _commit()},
        "config": dataclasses.asdict(results.config),
        "runs": [dataclasses.asdict(run) for run in results.runs],
        "throughput": {
            **dataclasses.asdict(results.throughput),
            "ratio": results.throughput.ratio,
        },
        "load": results.load,
        "conversion_ms": results.conversion_ms,
        "aiogram_import_mb": results.aiogram_import_mb,
        "result_kb": results.result_kb,
        "photo_kb": results.photo_kb,
    }


def chart(results: BenchResults, path: Path) -> bool:
    """Draw the chart as PNG; False when matplotlib is not installed (`pip install .[bench]`)."""
    try:
        import matplotlib  # optional: the smoke test runs without it

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return False
    figure, axes = pyplot.subplots(2, 3, figsize=(15, 8.5))
    panels: list[tuple[str, str, float | None, bool]] = [
        ("job_p50_ms", "job overhead p50 (ms, log)", OVERHEAD_P50_MS, True),
        ("job_p99_ms", "job overhead p99 (ms, log)", OVERHEAD_P99_MS, True),
        ("wall_ratio", "wall time / provider floor (log)", WALL_RATIO, True),
        ("peak_rss_mb", "peak RSS (MB)", RSS_MB, False),
        ("cpu_ms_per_job", "CPU ms per job", None, False),
    ]
    for axis, (field, title, target, log) in zip(axes.flat, panels, strict=False):
        for scenario in JOB_SCENARIOS:
            runs = [r for r in results.runs if r.scenario == scenario]
            axis.plot([r.n for r in runs], [getattr(r, field) for r in runs], "o-", label=scenario)
        if target is not None:
            axis.axhline(target, color="red", linestyle="--", linewidth=1, label="target")
        axis.set_xscale("log")
        if log:
            axis.set_yscale("log")
        axis.set_xlabel("N (users at once)")
        axis.set_title(title)
        axis.legend(fontsize=8)
    rates = axes.flat[5]
    tp = results.throughput
    rates.bar(["Iris", "bare aiogram"], [tp.iris.rate, tp.bare.rate], color=["tab:blue", "grey"])
    rates.set_title(f"updates per second (Iris = {tp.ratio:.0%} of bare)")
    figure.suptitle(f"Iris benchmark, {time.strftime('%Y-%m-%d')}, commit {_commit()}")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)
    return True


def write(results: BenchResults, out: Path, *, baseline: Path | None = None) -> list[Path]:
    """results.md, results.json and (with matplotlib) chart.png in `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    before = json.loads(baseline.read_text()) if baseline is not None else None
    written = [out / "results.md", out / "results.json"]
    written[0].write_text(markdown(results, baseline=before))
    written[1].write_text(json.dumps(to_json(results), indent=1, allow_nan=True) + "\n")
    if chart(results, out / "chart.png"):
        written.append(out / "chart.png")
    return written


def _machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}"


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - read-only, any git
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()
