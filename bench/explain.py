"""The prose of the results: what stands in the way of the targets, before → after, and what
each figure means."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from bench.config import TELEGRAM_RATE
from bench.figures import RunFigures
from bench.formats import ms, optional
from bench.targets import (
    OVERHEAD_N,
    OVERHEAD_P50_MS,
    RSS_MB,
    RSS_N,
    WALL_RATIO,
    WALL_SIZES,
    find_run,
    growth_mb,
)

if TYPE_CHECKING:
    from bench.run import BenchResults


def bounds(results: BenchResults) -> list[str]:
    """Why some targets cannot hold on this machine, from this run's own figures."""
    cores = os.cpu_count() or 1
    lines = ["## What stands in the way of the targets as written", ""]
    burst = find_run(results.runs, "imagine", OVERHEAD_N)
    if burst is not None:
        busy = burst.n * burst.cpu_ms_per_job / cores
        telegram = burst.n * burst.counted_calls_per_job / TELEGRAM_RATE
        lines.append(
            f"- **{OVERHEAD_N} jobs at the same instant.** Telegram takes "
            f"{TELEGRAM_RATE:g} messages a second from a bot: {burst.n} jobs × "
            f"{burst.counted_calls_per_job:.2f} counted calls need {telegram:.1f} s of budget, so "
            "the median user waits seconds for their status message and result however fast "
            f"the bot is. The CPU queues them too: each imagine job costs "
            f"{burst.cpu_ms_per_job:.1f} ms of CPU, {results.conversion_ms:.1f} ms of it the "
            f"WebP conversion; {burst.n} results due together need {busy:.0f} ms on {cores} "
            f"cores. A p50 of {OVERHEAD_P50_MS:g} ms cannot hold for a queue; the spread runs "
            "measure one job's overhead."
        )
    for run in results.runs:
        if run.n in WALL_SIZES and run.wall_ratio > WALL_RATIO:
            lines.append(_wall_bound(run, cores))
    tp = results.throughput
    lines.append(
        f"- **Throughput.** The bare bot spends {tp.bare.cpu_ms_per_update:.2f} ms of CPU per "
        f"update; Iris {tp.iris.cpu_ms_per_update:.2f} ms for /help (user record, rate limit, "
        "language, the user's keys, a 20-line answer, the outbox), all in one event loop."
    )
    memory = find_run(results.runs, "imagine", RSS_N)
    lines.append(
        f"- **Memory.** A Python process that only imports aiogram peaks at "
        f"{results.aiogram_import_mb:.0f} MB (its ~300 pydantic models); the bare bot idles at "
        f"{tp.bare.idle_rss_mb:.0f} MB and Iris at {tp.iris.idle_rss_mb:.0f} MB, so "
        f"{RSS_MB:g} MB in all is out of reach before the first job"
        + (
            f"; {memory.n} jobs add {growth_mb(memory):.0f} MB "
            f"({memory.rss_per_job_kb:.0f} KB each)."
            if memory is not None
            else "."
        )
    )
    return [*lines, ""]


def _wall_bound(run: RunFigures, cores: int) -> str:
    """Where a run's time above the floor went, from its own figures."""
    bound = "Telegram" if run.floor_s > run.provider_s else "provider"
    cpu = run.n * run.cpu_ms_per_job / cores
    return (
        f"- **{run.scenario} at N = {run.n}: {run.wall_s:.1f} s for a {run.floor_s:.1f} s floor** "
        f"({bound}-bound). Users waited {ms(run.update_p50_ms)} / {ms(run.update_p99_ms)} ms "
        "(p50 / p99) for their status message — a job starts once its status message is out, "
        f"and {run.n} of them take {run.n / TELEGRAM_RATE:.1f} s of budget — and results waited "
        f"{ms(run.delivery_p50_ms)} / {ms(run.delivery_p99_ms)} ms from hand to send; the bot "
        f"spent {run.cpu_ms_per_job:.1f} ms of CPU per job, {cpu:.0f} ms on {cores} cores in all."
        + _landing(run)
    )


def _landing(run: RunFigures) -> str:
    """Results that land together cannot be sent before they exist: their sends come after."""
    best = run.provider_s + run.n / TELEGRAM_RATE
    if best <= run.floor_s:
        return ""
    return (
        f" Results due at the same moment need {run.n / TELEGRAM_RATE:.1f} s of budget after "
        f"the provider's {run.provider_s:g} s, so no bot could finish before {best:.1f} s "
        f"({best / run.floor_s:.2f}× the floor)."
    )


def comparison(results: BenchResults, baseline: dict[str, Any] | None) -> list[str]:
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
        "| scenario | N | done | 429s | counted calls per job | wall / true floor "
        "| job overhead p50 / p99 ms | result → send p99 ms | poll slack p50 s | result polls "
        "| CPU ms per job | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    return [
        "## Before → after",
        "",
        f"Before: {baseline['meta']['when']}, commit {baseline['meta']['commit']}"
        + (f" ({baseline['meta']['note']})" if baseline["meta"].get("note") else "")
        + ".",
        "",
        *(table if rows else []),
        share,
        "",
    ]


def _comparison_row(run: RunFigures, old: dict[str, Any]) -> str:
    old_floor = old.get("floor_s") or math.nan
    cells = [
        f"{old['completed']}/{old['steps']} → {run.completed}/{run.steps}",
        f"{old.get('flood_errors', '–')} → {run.flood_errors}",
        f"{optional(old.get('counted_calls_per_job'))} → {run.counted_calls_per_job:.2f}",
        f"{old['wall_s'] / old_floor:.2f} → {run.wall_ratio:.2f}",
        f"{ms(old['job_p50_ms'])} / {ms(old['job_p99_ms'])} → "
        f"{ms(run.job_p50_ms)} / {ms(run.job_p99_ms)}",
        f"{ms(old.get('delivery_p99_ms'))} → {ms(run.delivery_p99_ms)}",
        f"{optional(old.get('poll_slack_p50_s'))} → {optional(run.poll_slack_p50_s)}",
        f"{optional(old.get('result_polls_per_job'))} → {optional(run.result_polls_per_job)}",
        f"{old['cpu_ms_per_job']:.1f} → {run.cpu_ms_per_job:.1f}",
        f"{old['peak_rss_mb']:.0f} → {run.peak_rss_mb:.0f}",
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
    "- **wall / true floor**: from the first request to the last result, over the true floor: "
    "max(the providers' own time — one job's, after the last user's arrival; mix: the slowest "
    "flow —, the run's counted calls ÷ TELEGRAM_RATE). No bot inside Telegram's limits can "
    "finish sooner.",
    "- **429s**: flood errors the emulated Bot API answered during the run (Telegram's limits "
    "on: 30 counted calls a second per bot, 3 per 3 s per private chat, 20 a minute per group; "
    "a refused call is not carried out). **counted calls per job**: calls Telegram counts "
    "(sends and edits) carried out, over N; chat actions, deletes and callback answers are not "
    "counted.",
    "- **result → send**: from the provider handing the result over (GPTunnel serving the "
    "image, DescribePicture answering) to the photo or answer arriving at the Bot API, for "
    "each job.",
    "- **poll slack**: from a GPTunnel job being ready to the poll that found it; **result "
    "polls**: GPTunnel result calls per generation job. The long-job runs share one bot: the "
    "first starts with no job times known (the fixed schedule), the later ones poll around the "
    "usual time the earlier ones taught.",
    "- **peak RSS**: the bot process's VmHWM during the run (reset just before it); **RSS per "
    "job**: (peak − RSS before the run) / N.",
    "- **CPU ms per job**: user + system CPU of the bot process during the run, over N.",
    "- **provider requests per job**: every request to GPTunnel, DescribePicture and AiLuna, "
    "polls and downloads included, over N.",
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
