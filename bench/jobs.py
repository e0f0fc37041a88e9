"""One job scenario at one N against a running Iris: play its users, then compute its figures."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from bench.config import TELEGRAM_RATE, Plan
from bench.contenders import Contender, Fakes
from bench.driver import Step, bench_user
from bench.figures import PROVIDERS, RunFigures, optional_percentile, overhead_ms, percentile
from bench.machine import own_cpu, settle_harness
from bench.processes import ProcessStats
from playground.telegram import Limits, User

logger = logging.getLogger(__name__)

RESULT_FLOWS = frozenset({"imagine", "describe"})
"""Flows whose result a provider hands over at a moment the fakes know."""


@dataclass(frozen=True, slots=True)
class _Telegram:
    """The emulator's flood counters at one moment."""

    counted: int
    refused: int

    @classmethod
    def now(cls, limits: Limits | None) -> _Telegram:
        if limits is None:
            return cls(0, 0)
        return cls(limits.counted_calls(), limits.refusals())


@dataclass(frozen=True, slots=True)
class _Before:
    stats: ProcessStats
    requests: Counter[str]
    harness_cpu: float
    telegram: _Telegram


async def execute(plan: Plan, iris: Contender, fakes: Fakes) -> RunFigures:
    """Play every user of the plan (spread as it says) and measure the run."""
    logger.info("%s with N=%d", plan.scenario, len(plan.users))
    fakes.gptunnel.seconds = plan.job_seconds
    fakes.gptunnel.fake.image = fakes.results[plan.result]
    driver = iris.driver
    flows: dict[str, Callable[[User], Awaitable[list[Step]]]] = {
        "imagine": driver.imagine,
        "describe": driver.describe,
        "gallery": driver.gallery,
    }
    settle_harness()
    before = _Before(
        await iris.bot.reset_peak(),
        Counter(fakes.spans.requests),
        own_cpu(),
        _Telegram.now(iris.api.limits),
    )
    done = await asyncio.gather(
        *(
            _after(i * plan.gap, flows[flow](bench_user(uid)))
            for i, (uid, flow) in enumerate(plan.users)
        )
    )
    after = await iris.bot.stats()
    steps = [step for steps in done for step in steps]
    return _figures(plan, steps, fakes, iris, before, after)


def _figures(
    plan: Plan,
    steps: Sequence[Step],
    fakes: Fakes,
    iris: Contender,
    before: _Before,
    after: ProcessStats,
) -> RunFigures:
    n = len(plan.users)
    spans = fakes.spans
    harness = own_cpu() - before.harness_cpu
    telegram = _Telegram.now(iris.api.limits)
    counted = telegram.counted - before.telegram.counted
    requests = Counter(spans.requests)
    requests.subtract(before.requests)
    generating = [uid for uid, flow in plan.users if flow == "imagine"]
    jobs = _values(overhead_ms(spans.of(s.user), s, s.done) for s in steps)
    updates = _values(overhead_ms(spans.of(s.user), s, s.first) for s in steps)
    ends = [s.done for s in steps if s.done is not None]
    wall = max(ends) - min(s.sent for s in steps) if ends else float("nan")
    provider = sum(v for k, v in requests.items() if k.partition(" ")[0] in PROVIDERS)
    polls = sum(v for k, v in requests.items() if k.endswith(" /v1/media/result"))
    slack = [fakes.gptunnel.slack[uid] for uid in generating if uid in fakes.gptunnel.slack]
    delivery = _delivery_ms(steps, fakes)
    return RunFigures(
        scenario=plan.scenario,
        n=n,
        steps=len(steps),
        completed=len(ends),
        wall_s=wall,
        provider_s=plan.provider_s,
        floor_s=max(plan.provider_s, counted / TELEGRAM_RATE),
        flood_errors=telegram.refused - before.telegram.refused,
        counted_calls_per_job=counted / n,
        update_p50_ms=percentile(updates, 50),
        update_p99_ms=percentile(updates, 99),
        job_p50_ms=percentile(jobs, 50),
        job_p99_ms=percentile(jobs, 99),
        delivery_p50_ms=optional_percentile(delivery, 50),
        delivery_p99_ms=optional_percentile(delivery, 99),
        poll_slack_p50_s=optional_percentile(slack, 50),
        poll_slack_p99_s=optional_percentile(slack, 99),
        peak_rss_mb=after.hwm_kb / 1024,
        rss_per_job_kb=(after.hwm_kb - before.stats.rss_kb) / n,
        cpu_ms_per_job=1000 * (after.cpu - before.stats.cpu) / n,
        provider_requests_per_job=provider / n,
        result_polls_per_job=polls / len(generating) if generating else None,
        writes_per_job=(after.writes - before.stats.writes) / n,
        telegram_calls_per_job=spans.count((uid for uid, _ in plan.users), "telegram") / n,
        harness_cpu_share=harness / wall if ends and wall > 0 else float("nan"),
    )


def _delivery_ms(steps: Iterable[Step], fakes: Fakes) -> list[float]:
    """For each delivered result: from the provider handing it over to its send arriving."""
    handed = {
        "imagine": fakes.gptunnel.handed,
        "describe": fakes.describepicture.handed,
    }
    out = []
    for step in steps:
        at = handed[step.kind].get(step.user) if step.kind in RESULT_FLOWS else None
        if at is not None and step.done is not None:
            out.append(1000 * (step.done - at))
    return out


async def _after(delay: float, flow: Awaitable[list[Step]]) -> list[Step]:
    """Play `flow` once `delay` seconds have passed (spread arrivals)."""
    if delay > 0:
        await asyncio.sleep(delay)
    return await flow


def _values(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]
