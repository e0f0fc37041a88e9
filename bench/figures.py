"""From what the fakes saw to the figures: overhead percentiles, ratios, costs per job."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.driver import Step
from bench.spans import Span

PROVIDERS = ("gptunnel", "describepicture", "ailuna")


@dataclass(frozen=True, slots=True)
class RunFigures:
    """Every figure of one scenario at one N."""

    scenario: str
    n: int
    steps: int
    completed: int
    wall_s: float
    provider_s: float
    """The providers' own time: no bot could finish sooner."""
    floor_s: float
    """The true floor: max(provider time, counted calls / TELEGRAM_RATE)."""
    flood_errors: int
    """429 answers the emulator gave the bot during the run."""
    counted_calls_per_job: float
    """Calls Telegram counts against the limits (sends and edits) carried out, over N."""
    update_p50_ms: float
    update_p99_ms: float
    job_p50_ms: float
    job_p99_ms: float
    delivery_p50_ms: float | None
    delivery_p99_ms: float | None
    """From the provider handing over the result to the photo or answer arriving at Telegram;
    None when the run had no generation or describe job."""
    poll_slack_p50_s: float | None
    poll_slack_p99_s: float | None
    """From a GPTunnel job being ready to the poll that found it; None without generations."""
    peak_rss_mb: float
    rss_per_job_kb: float
    cpu_ms_per_job: float
    provider_requests_per_job: float
    result_polls_per_job: float | None
    """GPTunnel result calls per generation job; None when the run had none."""
    writes_per_job: float
    telegram_calls_per_job: float
    harness_cpu_share: float
    """CPU of the fakes' and driver's process over the run's wall time (1.0 = one core busy)."""

    @property
    def wall_ratio(self) -> float:
        """Wall time for all jobs over the true floor."""
        return self.wall_s / self.floor_s if self.floor_s else math.nan


@dataclass(frozen=True, slots=True)
class Burst:
    """N messages from N users at once: how long the answers took, less the fakes' time."""

    n: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class MessageFigures:
    """One bot answering plain messages: bursts of N at once, then a long queue for its rate."""

    bot: str
    idle_rss_mb: float
    bursts: tuple[Burst, ...]
    updates: int
    answered: int
    seconds: float
    cpu_ms_per_update: float
    harness_cpu_share: float

    @property
    def rate(self) -> float:
        """Updates answered per second from the queue."""
        return self.answered / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ThroughputFigures:
    """Iris and the bare bot, fed the same messages."""

    iris: MessageFigures
    bare: MessageFigures

    @property
    def ratio(self) -> float:
        """Iris's rate as a share of the bare bot's."""
        return self.iris.rate / self.bare.rate if self.bare.rate else 0.0


def fake_time(spans: Iterable[Span], start: float, end: float, side: frozenset[str]) -> float:
    """Seconds within [start, end] when some fake was busy for the user (overlaps counted once)."""
    pieces = sorted(
        (max(s.start, start), min(s.end, end))
        for s in spans
        if s.name not in side and s.end > start and s.start < end
    )
    busy, reach = 0.0, start
    for low, high in pieces:
        low = max(low, reach)
        if high > low:
            busy += high - low
            reach = high
    return busy


def overhead_ms(spans: Sequence[Span], step: Step, end: float | None) -> float | None:
    """The user's wait from `step.sent` to `end`, less the fakes' time: the bot's own share."""
    if end is None:
        return None
    waited = end - step.sent
    return 1000 * (waited - fake_time(spans, step.sent, end, step.side))


def optional_percentile(values: Sequence[float], q: float) -> float | None:
    """The percentile, or None for no values (a figure the run had nothing for)."""
    return percentile(values, q) if values else None


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


BACKEND_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True, slots=True)
class SharingFigures:
    """One setup (a database, a number of instances) answering messages, then running jobs."""

    backend: str
    """"sqlite" or "postgres"."""
    instances: int
    updates: int
    answered: int
    update_seconds: float
    """From the first message sent to the last answer (Telegram's limits off, unpaced)."""
    cpu_ms_per_update: float
    """Every instance's CPU over the updates answered."""
    jobs: int
    done: int
    job_seconds: float
    """From the first /imagine to the last photo (Telegram's limits on)."""
    flood_errors: int
    counted_calls_per_job: float
    budget_jobs_per_s: float
    """Jobs a second the instances' shares of TELEGRAM_RATE allow at this run's counted calls
    per job: the rate where the budget binds."""
    cpu_ms_per_job: float
    """Every instance's CPU over the jobs."""
    server_cpu_ms_per_job: float
    """The PostgreSQL server's CPU over the jobs (0 for SQLite, which works in the bot)."""
    peak_rss_mb: tuple[float, ...]
    """Each instance's peak RSS during the jobs."""
    writes_per_job: float

    @property
    def name(self) -> str:
        """ "PostgreSQL ×2" and the like."""
        return f"{BACKEND_NAMES[self.backend]} ×{self.instances}"

    @property
    def updates_per_s(self) -> float:
        """Updates answered a second."""
        return self.answered / self.update_seconds if self.update_seconds > 0 else 0.0

    @property
    def jobs_per_s(self) -> float:
        """Jobs done a second."""
        return self.done / self.job_seconds if self.job_seconds > 0 else 0.0

    @property
    def total_cpu_ms_per_job(self) -> float:
        """The instances' and the database server's CPU per job."""
        return self.cpu_ms_per_job + self.server_cpu_ms_per_job


@dataclass(frozen=True, slots=True)
class WritesFigures:
    """Users making their jobs' write transactions from two instances on one PostgreSQL."""

    users: int
    jobs: int
    seconds: float
    p50_ms: float
    """A job's three write transactions, one after another."""
    p95_ms: float

    @property
    def jobs_per_s(self) -> float:
        """Jobs whose writes were made a second."""
        return self.jobs / self.seconds if self.seconds > 0 else 0.0
