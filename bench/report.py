"""The results page (markdown, with the targets) and the JSON file; `write` puts them and the
chart in place."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from bench.chart import chart
from bench.config import TELEGRAM_RATE
from bench.explain import DEFINITIONS, bounds, comparison
from bench.figures import MessageFigures, RunFigures, ThroughputFigures
from bench.formats import commit, machine, mark, ms, optional
from bench.run import BenchResults
from bench.sharing_page import sharing_section, writes_section
from bench.targets import verdicts


def markdown(results: BenchResults, *, baseline: dict[str, Any] | None = None) -> str:
    """The whole results page."""
    config = results.config
    lines = [
        "# Iris benchmark results",
        "",
        f"`python -m bench` on {machine()}, {time.strftime('%Y-%m-%d')}, commit {commit()}; "
        f"load average {results.load[0]:.1f} before, {results.load[1]:.1f} after (other work on "
        "the machine slows both bots and inflates the overheads).",
        f"GPTunnel jobs take {config.imagine_seconds:g} s from create to result "
        f"({config.long_job_seconds:g} s in the long-job runs); DescribePicture answers after "
        f"{config.describe_seconds:g} s; AiLuna after {config.ailuna_seconds:g} s per request. "
        f"Result image {results.result_kb:.0f} KB (1024×1024 WebP), user photo "
        f"{results.photo_kb:.0f} KB (1280×960 JPEG). Iris runs in its own process "
        "(`python -m bench.iris_bot`, the code path of `python -m bot`), the fakes and the "
        "simulated users in the benchmark's process. Every job run is against an emulated Bot API "
        f"with Telegram's flood limits on; each user writes in a private chat of their own; Iris "
        f"has TELEGRAM_RATE={TELEGRAM_RATE:g}.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {v.target} | {v.measured} | {mark(v.passed)} |" for v in verdicts(results)),
        "",
        "## Jobs",
        "",
        "| scenario | N | done | 429s | counted calls per job | wall s | true floor s "
        "| wall / floor | update overhead p50 / p99 ms | job overhead p50 / p99 ms "
        "| result → send p50 / p99 ms | poll slack p50 / p99 s | result polls per job "
        "| peak RSS MB | RSS per job KB | CPU ms per job | provider requests per job "
        "| SQLite writes per job | Bot API calls per job | harness CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_run_row(run) for run in results.runs),
        "",
        "## Answering messages (limits off)",
        "",
        "The ceiling for update handling. Both bots run on emulated Bot APIs of their own with the "
        "flood limits off, and Iris's outbox gets budgets beyond this load: with Telegram's "
        f"limits both would answer {TELEGRAM_RATE:g} messages a second, and the comparison would "
        "measure Telegram. Iris's outbox is still on the path of every answer. "
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
        *sharing_section(results.sharing, results.config),
        *writes_section(results.writes),
        *bounds(results),
        *comparison(results, baseline),
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
        theirs = "–" if other is None else f"{ms(other.p50_ms)} / {ms(other.p99_ms)}"
        rows.append(f"| {burst.n} | {ms(burst.p50_ms)} / {ms(burst.p99_ms)} | {theirs} |")
    return rows


def _run_row(run: RunFigures) -> str:
    cells = [
        run.scenario,
        str(run.n),
        f"{run.completed}/{run.steps}",
        str(run.flood_errors),
        f"{run.counted_calls_per_job:.2f}",
        f"{run.wall_s:.2f}",
        f"{run.floor_s:.2f}",
        f"{run.wall_ratio:.2f}",
        f"{ms(run.update_p50_ms)} / {ms(run.update_p99_ms)}",
        f"{ms(run.job_p50_ms)} / {ms(run.job_p99_ms)}",
        f"{ms(run.delivery_p50_ms)} / {ms(run.delivery_p99_ms)}",
        f"{optional(run.poll_slack_p50_s)} / {optional(run.poll_slack_p99_s)}",
        optional(run.result_polls_per_job),
        f"{run.peak_rss_mb:.0f}",
        f"{run.rss_per_job_kb:.0f}",
        f"{run.cpu_ms_per_job:.1f}",
        f"{run.provider_requests_per_job:.2f}",
        f"{run.writes_per_job:.1f}",
        f"{run.telegram_calls_per_job:.1f}",
        f"{run.harness_cpu_share:.0%}",
    ]
    return "| " + " | ".join(cells) + " |"


def to_json(results: BenchResults, *, note: str | None = None) -> dict[str, Any]:
    """Everything measured, for a later run to compare against."""
    meta = {"when": time.strftime("%Y-%m-%d %H:%M"), "commit": commit()}
    return {
        "meta": {**meta, "note": note} if note else meta,
        "config": dataclasses.asdict(results.config),
        "runs": [dataclasses.asdict(run) for run in results.runs],
        "throughput": {
            **dataclasses.asdict(results.throughput),
            "ratio": results.throughput.ratio,
        },
        "load": results.load,
        "conversion_ms": results.conversion_ms,
        "aiogram_import_mb": results.aiogram_import_mb,
        "sharing": [dataclasses.asdict(setup) for setup in results.sharing],
        "writes": [dataclasses.asdict(figures) for figures in results.writes],
        "result_kb": results.result_kb,
        "photo_kb": results.photo_kb,
    }


def write(
    results: BenchResults, out: Path, *, baseline: Path | None = None, note: str | None = None
) -> list[Path]:
    """results.md, results.json and (with matplotlib) chart.png in `out`; the paths written."""
    written = page(results, out, baseline=baseline)
    stored = out / "results.json"
    stored.write_text(json.dumps(to_json(results, note=note), indent=1, allow_nan=True) + "\n")
    return [written[0], stored, *written[1:]]


def page(results: BenchResults, out: Path, *, baseline: Path | None = None) -> list[Path]:
    """results.md and (with matplotlib) chart.png in `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    before = json.loads(baseline.read_text()) if baseline is not None else None
    written = [out / "results.md"]
    written[0].write_text(markdown(results, baseline=before))
    if chart(results, out / "chart.png"):
        written.append(out / "chart.png")
    return written
