"""The results page's section on sharing the work: SQLite ×1 against PostgreSQL ×1 and ×2."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.config import TELEGRAM_RATE, BenchConfig
from bench.figures import SharingFigures, WritesFigures
from bench.formats import ms
from bench.writes import INSTANCES

SHARING_CPU_RATIO = 1.3
"""PostgreSQL's single instance may spend this much of SQLite's CPU per job, database included."""


def find_setup(
    setups: Sequence[SharingFigures], backend: str, instances: int
) -> SharingFigures | None:
    """The figures of one setup, if it ran."""
    return next((s for s in setups if (s.backend, s.instances) == (backend, instances)), None)


def cpu_ratio(setups: Sequence[SharingFigures]) -> tuple[float, float] | None:
    """PostgreSQL ×1 over SQLite ×1 CPU per job: with the database server, and Iris's alone."""
    sqlite, postgres = find_setup(setups, "sqlite", 1), find_setup(setups, "postgres", 1)
    if sqlite is None or postgres is None or not sqlite.cpu_ms_per_job:
        return None
    return (
        postgres.total_cpu_ms_per_job / sqlite.total_cpu_ms_per_job,
        postgres.cpu_ms_per_job / sqlite.cpu_ms_per_job,
    )


def sharing_section(setups: Sequence[SharingFigures], config: BenchConfig) -> list[str]:
    """The section: how it was measured, the table, and the ratio against the target."""
    if not setups:
        return []
    lines = [
        "## Sharing the work: SQLite against PostgreSQL, one and two instances",
        "",
        "Each setup starts on a fresh database (SQLite in `DATA_DIR`, or a database of a "
        "PostgreSQL 15 server started in a temporary folder, fsync off) with every instance in "
        "webhook mode, as several instances must run: the emulated Bot API posts each update (one "
        "at a time) to a round-robin spreader (`playground/spreader.py`, a load balancer's part), "
        "which hands it to the next instance. First "
        f"{config.throughput_users * config.throughput_per_user} `/help` messages from "
        f"{config.throughput_users} users at once with Telegram's limits off and the outbox "
        f"unpaced (best of {config.queue_repeats}), then {config.sharing_jobs} users who each "
        f"`/imagine` at once with the limits on (GPTunnel answers a JPEG after "
        f"{config.imagine_seconds:g} s, so no WebP conversion hides the database's cost). Two "
        f"instances each send at {TELEGRAM_RATE:g} × 0.9 ÷ 2 calls a second "
        "(`bot/instances.py`), so the budget binds at the jobs a second those shares allow. CPU is "
        "each process's own; the PostgreSQL server's (its backends and background processes) is "
        "counted apart. The machine's 2 cores are shared by everything, so two instances show the "
        "cost of sharing, not a speed-up.",
        "",
        "| setup | updates/s | CPU ms per update | jobs done | jobs/s | budget binds at jobs/s "
        "| 429s | counted calls per job | CPU ms per job: Iris / database server / total "
        "| peak RSS MB per instance | writes per job |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(setup) for setup in setups),
        "",
    ]
    ratio = cpu_ratio(setups)
    if ratio is not None:
        total, alone = ratio
        verdict = "within" if total <= SHARING_CPU_RATIO else "over"
        lines += [
            f"PostgreSQL ×1 spends **{total:.2f}×** SQLite ×1's CPU per job, its server included "
            f"({verdict} the {SHARING_CPU_RATIO:g}× target); Iris's process alone {alone:.2f}×.",
            "",
        ]
    return lines


def writes_section(figures: Sequence[WritesFigures]) -> list[str]:
    """Many users' writes against one user's: what locking by user lets run in parallel."""
    if not figures:
        return []
    return [
        "## Write transactions of many users on PostgreSQL",
        "",
        f"{INSTANCES} instances' storages on one database make each job's three write "
        "transactions (a rate-limit hit, the operator-limit check with the job's creation, the "
        "admission to the user's slots) and end the job; each user makes their jobs one after "
        "another. One user's transactions lock the same key and take turns; different users' "
        "lock their own (`bot/storage/sql/locks.py`) and run side by side.",
        "",
        "| users at once | jobs | jobs/s | a job's writes p50 / p95 ms |",
        "|---|---|---|---|",
        *(
            f"| {f.users} | {f.jobs} | {f.jobs_per_s:.0f} | {f.p50_ms:.1f} / {f.p95_ms:.1f} |"
            for f in figures
        ),
        "",
    ]


def _row(setup: SharingFigures) -> str:
    cells = [
        setup.name,
        _whole(setup.updates_per_s),
        f"{setup.cpu_ms_per_update:.2f}",
        f"{setup.done}/{setup.jobs}",
        f"{setup.jobs_per_s:.1f}",
        f"{setup.budget_jobs_per_s:.1f}",
        str(setup.flood_errors),
        f"{setup.counted_calls_per_job:.2f}",
        f"{ms(setup.cpu_ms_per_job)} / {ms(setup.server_cpu_ms_per_job)} / "
        f"{ms(setup.total_cpu_ms_per_job)}",
        " + ".join(f"{mb:.0f}" for mb in setup.peak_rss_mb),
        f"{setup.writes_per_job:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def _whole(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"
