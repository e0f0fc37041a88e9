"""The results as a PNG chart (with the `bench` extra: matplotlib)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.config import JOB_SCENARIOS, LONG_JOB
from bench.formats import commit
from bench.targets import COUNTED_PER_JOB, OVERHEAD_P50_MS, OVERHEAD_P99_MS, RSS_MB, WALL_RATIO

if TYPE_CHECKING:
    from bench.run import BenchResults

PANELS: list[tuple[str, str, float | None, bool]] = [
    ("job_p50_ms", "job overhead p50 (ms, log)", OVERHEAD_P50_MS, True),
    ("job_p99_ms", "job overhead p99 (ms, log)", OVERHEAD_P99_MS, True),
    ("wall_ratio", "wall time / true floor", WALL_RATIO, False),
    ("counted_calls_per_job", "counted Bot API calls per job", COUNTED_PER_JOB, False),
    ("flood_errors", "429s received", None, False),
    ("peak_rss_mb", "peak RSS (MB)", RSS_MB, False),
    ("cpu_ms_per_job", "CPU ms per job", None, False),
]


def chart(results: BenchResults, path: Path) -> bool:
    """Draw the chart as PNG; False when matplotlib is not installed (`pip install .[bench]`)."""
    try:
        import matplotlib  # optional: the smoke test runs without it

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return False
    figure, axes = pyplot.subplots(2, 4, figsize=(19, 8.5))
    for axis, (field, title, target, log) in zip(axes.flat, PANELS, strict=False):
        for scenario in (*JOB_SCENARIOS, LONG_JOB):
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
    rates = axes.flat[len(PANELS)]
    tp = results.throughput
    rates.bar(["Iris", "bare aiogram"], [tp.iris.rate, tp.bare.rate], color=["tab:blue", "grey"])
    rates.set_title(f"updates per second, limits off (Iris = {tp.ratio:.0%} of bare)")
    figure.suptitle(f"Iris benchmark, {time.strftime('%Y-%m-%d')}, commit {commit()}")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)
    return True
