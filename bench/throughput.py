"""Iris against the bare aiogram bot on plain messages: bursts of N at once, then a long queue."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass

from bench.config import BenchConfig
from bench.contenders import Contender
from bench.driver import Step, bench_user
from bench.figures import Burst, MessageFigures, ThroughputFigures, overhead_ms, percentile
from bench.machine import own_cpu, settle_harness
from bench.spans import Spans

logger = logging.getLogger(__name__)

MESSAGE = "/help"


@dataclass(frozen=True, slots=True)
class _Queue:
    seconds: float
    answered: int
    cpu_ms_per_update: float
    harness_cpu_share: float


class Throughput:
    """Feeds both bots the same messages from fresh users and times their answers."""

    def __init__(self, config: BenchConfig, spans: Spans) -> None:
        self._config = config
        self._spans = spans
        self._ids = itertools.count(20_000_001)

    async def compare(self, iris: Contender, bare: Contender) -> ThroughputFigures:
        """Bursts of N messages for each bot, then the queue, alternately, best of the repeats.

        The machine may be shared: alternating and keeping each bot's best run compares the
        two under the same conditions.
        """
        settle_harness()
        idle = {c.name: (await c.bot.stats()).rss_kb / 1024 for c in (iris, bare)}
        bursts = {c.name: await self._bursts(c) for c in (iris, bare)}
        best: dict[str, _Queue] = {}
        for _ in range(self._config.queue_repeats):
            for contender in (bare, iris):
                queue = await self._queue(contender)
                if contender.name not in best or queue.seconds < best[contender.name].seconds:
                    best[contender.name] = queue
        figures = {
            c.name: MessageFigures(
                bot=c.name,
                idle_rss_mb=idle[c.name],
                bursts=bursts[c.name],
                updates=self._config.throughput_users * self._config.throughput_per_user,
                answered=best[c.name].answered,
                seconds=best[c.name].seconds,
                cpu_ms_per_update=best[c.name].cpu_ms_per_update,
                harness_cpu_share=best[c.name].harness_cpu_share,
            )
            for c in (iris, bare)
        }
        return ThroughputFigures(iris=figures[iris.name], bare=figures[bare.name])

    async def _bursts(self, contender: Contender) -> tuple[Burst, ...]:
        logger.info("bursts of messages to %s", contender.name)
        bursts = []
        for n in self._config.sizes:
            steps = await self._chat(contender, users=n, times=1)
            latencies = [overhead_ms(self._spans.of(s.user), s, s.first) for s in steps]
            values = [v for v in latencies if v is not None]
            bursts.append(Burst(n, percentile(values, 50), percentile(values, 99)))
        return tuple(bursts)

    async def _queue(self, contender: Contender) -> _Queue:
        logger.info("a queue of messages to %s", contender.name)
        before, harness_before = await contender.bot.stats(), own_cpu()
        steps = await self._chat(
            contender,
            users=self._config.throughput_users,
            times=self._config.throughput_per_user,
        )
        after, harness = await contender.bot.stats(), own_cpu() - harness_before
        ends = [s.done for s in steps if s.done is not None]
        seconds = max(ends) - min(s.sent for s in steps) if ends else float("nan")
        return _Queue(
            seconds=seconds,
            answered=len(ends),
            cpu_ms_per_update=1000 * (after.cpu - before.cpu) / max(1, len(ends)),
            harness_cpu_share=harness / seconds if ends and seconds > 0 else float("nan"),
        )

    async def _chat(self, contender: Contender, *, users: int, times: int) -> list[Step]:
        chat, marker = contender.driver.chat, contender.marker
        done = await asyncio.gather(
            *(
                chat(bench_user(next(self._ids)), text=MESSAGE, times=times, marker=marker)
                for _ in range(users)
            )
        )
        return [step for steps in done for step in steps]
