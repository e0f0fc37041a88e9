"""`python -m bench`: run the benchmark and write bench/results/ (markdown, JSON, chart)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.config import SMOKE, BenchConfig
from bench.report import page, write
from bench.run import run_bench, run_sharing
from bench.sharing_page import sharing_section, writes_section
from bench.stored import load_results

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = RESULTS / "baseline.json"
"""The bot before the outbox (commit b4d48df) measured with this harness: compared with by
default."""


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="the quick run of the test suite")
    parser.add_argument("--sizes", help="comma-separated N values (default 1,10,100,500,1000)")
    parser.add_argument("--long-sizes", help="comma-separated N values of the 20 s job runs")
    parser.add_argument("--timeout", type=float, help="seconds a user waits for the bot")
    parser.add_argument("--note", help="a remark stored with the results (shown by a later run)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="an earlier results.json to compare with (default: bench/results/baseline.json)",
    )
    parser.add_argument(
        "--render", type=Path, help="write the page again from this results.json, no run"
    )
    parser.add_argument(
        "--sharing-only",
        action="store_true",
        help="run only SQLite ×1 against PostgreSQL ×1 and ×2, and the writes of one and many "
        "users, and print their tables (no results written)",
    )
    parser.add_argument("--keep", type=Path, help="keep the bots' data and logs in this folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or read a stored run), write the results, print where they are."""
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    baseline = arguments.baseline or (BASELINE if BASELINE.is_file() else None)
    if arguments.render is not None:
        for path in page(load_results(arguments.render), arguments.out, baseline=baseline):
            print(path)
        return 0
    config = SMOKE if arguments.smoke else BenchConfig()
    if arguments.sizes:
        config = replace(config, sizes=_sizes(arguments.sizes))
    if arguments.long_sizes:
        config = replace(config, long_job_sizes=_sizes(arguments.long_sizes))
    if arguments.timeout:
        config = replace(config, flow_timeout=arguments.timeout)
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as temporary:
        workdir = arguments.keep or Path(temporary)
        if arguments.sharing_only:
            setups, writes = asyncio.run(run_sharing(config, workdir=workdir))
            print("\n".join([*sharing_section(setups, config), *writes_section(writes)]))
            return 0
        results = asyncio.run(run_bench(config, workdir=workdir))
    for path in write(results, arguments.out, baseline=baseline, note=arguments.note):
        print(path)
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(","))


if __name__ == "__main__":
    sys.exit(main())
