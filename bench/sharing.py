"""What sharing the work costs: SQLite's one instance against one and two instances on one
PostgreSQL database, each setup in webhook mode behind the round-robin spreader, answering a queue
of messages (Telegram's limits off) and then a burst of jobs (limits on)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from bench.config import TELEGRAM_RATE, BenchConfig
from bench.contenders import IRIS_HELP_MARKER, Fakes
from bench.driver import Step, bench_user
from bench.figures import SharingFigures
from bench.fleet import Fleet, fleet
from bench.machine import settle_harness, tree_cpu
from bench.processes import ProcessStats
from bench.throughput import MESSAGE
from bot.instances import share_of
from tests.postgres import PostgresServer, server_binaries

logger = logging.getLogger(__name__)

SETUPS = (("sqlite", 1), ("postgres", 1), ("postgres", 2))
"""(database, instances) in the order they run and are shown."""


@dataclass(frozen=True, slots=True)
class _Updates:
    answered: int
    seconds: float
    cpu_ms_per_update: float


async def measure_sharing(
    config: BenchConfig, fakes: Fakes, *, workdir: Path, photo: bytes
) -> list[SharingFigures]:
    """Every setup of SETUPS, PostgreSQL on a server started in `workdir` for them (SQLite
    only when the config says so, or this machine has no PostgreSQL server binaries)."""
    postgres = postgres_server() if config.sharing_postgres else None
    if postgres is not None:
        await asyncio.to_thread(postgres.start)
    try:
        sharing = _Sharing(config, fakes, workdir=workdir, photo=photo, postgres=postgres)
        return [
            await sharing.setup(backend, instances)
            for backend, instances in SETUPS
            if backend == "sqlite" or postgres is not None
        ]
    finally:
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)


def postgres_server() -> PostgresServer | None:
    """A server to start in a temporary folder, or None without PostgreSQL's binaries."""
    try:
        server_binaries()
    except RuntimeError as e:
        logger.warning("SQLite only: %s", e)
        return None
    return PostgresServer()


class _Sharing:
    """Runs one setup at a time; user ids never repeat across them."""

    def __init__(
        self,
        config: BenchConfig,
        fakes: Fakes,
        *,
        workdir: Path,
        photo: bytes,
        postgres: PostgresServer | None,
    ) -> None:
        self._config = config
        self._fakes = fakes
        self._workdir = workdir
        self._photo = photo
        self._postgres = postgres
        self._ids = itertools.count(30_000_001)

    async def setup(self, backend: str, instances: int) -> SharingFigures:
        """Start the setup on a fresh database, the queue of messages, then the jobs."""
        logger.info("sharing: %s with %d instance(s)", backend, instances)
        url = None
        if backend == "postgres":
            assert self._postgres is not None
            url = await self._postgres.create_database()
        workdir = self._workdir / f"sharing-{backend}-{instances}"

        def start(*, limits: bool) -> AbstractAsyncContextManager[Fleet]:
            return fleet(
                self._fakes, instances=instances, database_url=url, workdir=workdir,
                limits=limits, photo=self._photo, timeout=self._config.flow_timeout,
            )  # fmt: skip

        async with start(limits=False) as bots:
            updates = [await self._queue(bots) for _ in range(self._config.queue_repeats)]
        best = min(updates, key=lambda u: u.seconds)
        async with start(limits=True) as bots:
            return await self._jobs(bots, backend, instances, best)

    async def _queue(self, bots: Fleet) -> _Updates:
        config = self._config
        before = await bots.stats()
        done = await asyncio.gather(
            *(
                bots.driver.chat(
                    bench_user(next(self._ids)),
                    text=MESSAGE,
                    times=config.throughput_per_user,
                    marker=IRIS_HELP_MARKER,
                )
                for _ in range(config.throughput_users)
            )
        )
        after = await bots.stats()
        steps = [step for steps in done for step in steps]
        ends = [s.done for s in steps if s.done is not None]
        return _Updates(
            answered=len(ends),
            seconds=_wall(steps),
            cpu_ms_per_update=1000 * _cpu(before, after) / max(1, len(ends)),
        )

    async def _jobs(
        self, bots: Fleet, backend: str, instances: int, updates: _Updates
    ) -> SharingFigures:
        config, fakes = self._config, self._fakes
        limits = bots.api.limits
        assert limits is not None
        fakes.gptunnel.seconds = config.imagine_seconds
        fakes.gptunnel.fake.image = fakes.results["jpeg"]
        n = config.sharing_jobs
        settle_harness()
        before = await bots.reset_peak()
        server_before = self._server_cpu(backend)
        counted, refused = limits.counted_calls(), limits.refusals()
        done = await asyncio.gather(
            *(bots.driver.imagine(bench_user(next(self._ids))) for _ in range(n))
        )
        after = await bots.stats()
        server = self._server_cpu(backend) - server_before
        steps = [step for steps in done for step in steps]
        counted_per_job = (limits.counted_calls() - counted) / n
        budget = TELEGRAM_RATE * instances * share_of(instances)
        return SharingFigures(
            backend=backend,
            instances=instances,
            updates=config.throughput_users * config.throughput_per_user,
            answered=updates.answered,
            update_seconds=updates.seconds,
            cpu_ms_per_update=updates.cpu_ms_per_update,
            jobs=n,
            done=sum(1 for s in steps if s.done is not None),
            job_seconds=_wall(steps),
            flood_errors=limits.refusals() - refused,
            counted_calls_per_job=counted_per_job,
            budget_jobs_per_s=budget / counted_per_job if counted_per_job else 0.0,
            cpu_ms_per_job=1000 * _cpu(before, after) / n,
            server_cpu_ms_per_job=1000 * server / n,
            peak_rss_mb=tuple(stats.hwm_kb / 1024 for stats in after),
            writes_per_job=sum(a.writes - b.writes for a, b in zip(after, before, strict=True)) / n,
        )

    def _server_cpu(self, backend: str) -> float:
        if backend != "postgres" or self._postgres is None:
            return 0.0
        return tree_cpu(self._postgres.pid())


def _cpu(before: Sequence[ProcessStats], after: Sequence[ProcessStats]) -> float:
    """CPU seconds every instance spent between the two moments."""
    return sum(a.cpu - b.cpu for a, b in zip(after, before, strict=True))


def _wall(steps: Sequence[Step]) -> float:
    """From the first request sent to the last answer; NaN when nothing was answered."""
    ends = [s.done for s in steps if s.done is not None]
    return max(ends) - min(s.sent for s in steps) if ends else float("nan")
