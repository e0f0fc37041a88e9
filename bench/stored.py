"""Results read back from a results.json, to write the page again (against another baseline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from bench.figures import (
    Burst,
    MessageFigures,
    RunFigures,
    SharingFigures,
    ThroughputFigures,
    WritesFigures,
)
from bench.run import BenchResults


def load_results(path: Path) -> BenchResults:
    """The BenchResults a results.json holds."""
    stored = json.loads(path.read_text())
    config: dict[str, Any] = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in stored["config"].items()
    }
    throughput = stored["throughput"]
    return BenchResults(
        config=BenchConfig(**config),
        runs=tuple(RunFigures(**run) for run in stored["runs"]),
        throughput=ThroughputFigures(
            iris=_messages(throughput["iris"]), bare=_messages(throughput["bare"])
        ),
        result_kb=stored["result_kb"],
        photo_kb=stored["photo_kb"],
        load=(stored["load"][0], stored["load"][1]),
        conversion_ms=stored["conversion_ms"],
        aiogram_import_mb=stored["aiogram_import_mb"],
        sharing=tuple(_sharing(setup) for setup in stored.get("sharing", ())),
        writes=tuple(WritesFigures(**figures) for figures in stored.get("writes", ())),
    )


def _messages(stored: dict[str, Any]) -> MessageFigures:
    bursts = tuple(Burst(**burst) for burst in stored["bursts"])
    return MessageFigures(**{**stored, "bursts": bursts})


def _sharing(stored: dict[str, Any]) -> SharingFigures:
    return SharingFigures(**{**stored, "peak_rss_mb": tuple(stored["peak_rss_mb"])})
