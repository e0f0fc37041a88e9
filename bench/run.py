"""Runs every scenario against Iris in its own process, and the bare bot, and collects figures."""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from bench.config import BenchConfig, plans
from bench.contenders import Bots, Fakes
from bench.figures import RunFigures, SharingFigures, ThroughputFigures, WritesFigures
from bench.images import result_image, user_photo
from bench.jobs import execute
from bench.machine import aiogram_import_mb, conversion_ms
from bench.sharing import measure_sharing
from bench.throughput import Throughput
from bench.writes import measure_writes

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BenchResults:
    """Everything one benchmark measured."""

    config: BenchConfig
    runs: tuple[RunFigures, ...]
    throughput: ThroughputFigures
    result_kb: float
    photo_kb: float
    load: tuple[float, float]
    """The machine's 1-minute load average before and after (other work skews the figures)."""
    conversion_ms: float
    """CPU to make the WebP result fit for sendPhoto once (best of 5, in the harness)."""
    aiogram_import_mb: float
    """Peak RSS of a Python process that only imports aiogram."""
    sharing: tuple[SharingFigures, ...] = ()
    """SQLite's one instance against one and two on PostgreSQL (none in results stored before
    they were measured)."""
    writes: tuple[WritesFigures, ...] = ()
    """One user's and many users' write transactions on PostgreSQL (likewise)."""


async def run_bench(config: BenchConfig, *, workdir: Path) -> BenchResults:
    """Start the fakes, run every plan with Telegram's limits on, then Iris against the bare bot
    with the limits off, then the sharing setups, stop everything."""
    result, photo = result_image(), user_photo()
    load_before = os.getloadavg()[0]
    fakes = _fakes(config, result)
    await fakes.start()
    try:
        bots = Bots(fakes, workdir=workdir, photo=photo, timeout=config.flow_timeout)
        runs = await _jobs(config, bots, fakes)
        async with bots.iris([], limits=False) as iris, bots.bare() as bare:
            throughput = await Throughput(config, fakes.spans).compare(iris, bare)
        sharing = await measure_sharing(config, fakes, workdir=workdir, photo=photo)
        writes = await measure_writes(config, workdir=workdir)
    finally:
        await fakes.close()
    return BenchResults(
        config=config,
        runs=tuple(runs),
        throughput=throughput,
        result_kb=len(result) / 1024,
        photo_kb=len(photo) / 1024,
        load=(load_before, os.getloadavg()[0]),
        conversion_ms=conversion_ms(result),
        aiogram_import_mb=await aiogram_import_mb(),
        sharing=tuple(sharing),
        writes=tuple(writes),
    )


async def run_sharing(
    config: BenchConfig, *, workdir: Path
) -> tuple[list[SharingFigures], list[WritesFigures]]:
    """Only the sharing setups and the writes (`python -m bench --sharing-only`), on fakes of
    their own."""
    fakes = _fakes(config, result_image())
    await fakes.start()
    try:
        setups = await measure_sharing(config, fakes, workdir=workdir, photo=user_photo())
    finally:
        await fakes.close()
    return setups, await measure_writes(config, workdir=workdir)


def _fakes(config: BenchConfig, result: bytes) -> Fakes:
    return Fakes(
        result=result,
        describe_seconds=config.describe_seconds,
        ailuna_seconds=config.ailuna_seconds,
    )


async def _jobs(config: BenchConfig, bots: Bots, fakes: Fakes) -> list[RunFigures]:
    """Every plan: a fresh Iris per scenario, or one for all."""
    todo = plans(config)
    groups = (
        [list(group) for _, group in itertools.groupby(todo, key=lambda p: p.scenario)]
        if config.process_per_scenario
        else [todo]
    )
    runs: list[RunFigures] = []
    for group in groups:
        async with bots.iris(group, limits=True) as iris:
            runs += [await execute(plan, iris, fakes) for plan in group]
    return runs
