"""What the benchmark runs: sizes, provider latencies, and each scenario's users and floor."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

LONG_JOB = "long-job"
SPREAD_SCENARIOS = ("imagine-spread", "imagine-jpeg-spread", "describe-spread")
JOB_SCENARIOS = ("imagine", "describe", "mix")
TELEGRAM_RATE = 30.0
"""Counted calls a second Iris is given (its TELEGRAM_RATE), as Telegram allows one bot."""
UNPACED = "BENCH_UNPACED"
"""Set in Iris's environment for the throughput ceiling: its outbox gets budgets beyond any
load the benchmark makes (bench/iris_bot.py)."""


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to run: sizes, provider latencies, and how processes are used."""

    sizes: tuple[int, ...] = (1, 10, 100, 500, 1000)
    imagine_seconds: float = 2.0
    """How long a GPTunnel job takes (from its create to the result being ready)."""
    describe_seconds: float = 1.0
    """DescribePicture's latency per request."""
    ailuna_seconds: float = 0.3
    """AiLuna's latency per request (gallery browsing)."""
    long_job_seconds: float = 20.0
    long_job_sizes: tuple[int, ...] = (10, 100, 500)
    """One bot for all of them, in this order: the first run starts with no job times known
    (the fixed poll schedule), the later ones poll on the usual time the earlier ones taught."""
    spread_users: int = 100
    spread_seconds: float = 10.0
    """The spread scenarios: this many users, their arrivals evenly spread over these seconds
    (the bot never saturated), for the overhead of one job rather than of a queue."""
    throughput_users: int = 200
    throughput_per_user: int = 10
    queue_repeats: int = 3
    """Queue runs per bot, alternating; each bot's best counts."""
    process_per_scenario: bool = True
    """A fresh Iris process per scenario (clean peak RSS); else one for the whole run."""
    flow_timeout: float = 180.0
    sharing_jobs: int = 200
    """Users who each /imagine at once in the sharing runs: enough for Telegram's budget to
    bind (bench/sharing.py)."""
    sharing_postgres: bool = True
    """Run the sharing setups on PostgreSQL too (else SQLite's only)."""
    writes_users: int = 64
    writes_jobs: int = 1920
    """The write transactions of this many jobs, made by one user and then by `writes_users`
    users at once from two instances (bench/writes.py)."""


SMOKE = BenchConfig(
    sizes=(5,),
    imagine_seconds=1.0,
    describe_seconds=0.2,
    ailuna_seconds=0.05,
    long_job_seconds=2.0,
    long_job_sizes=(2,),
    spread_users=5,
    spread_seconds=0.5,
    throughput_users=5,
    throughput_per_user=4,
    queue_repeats=1,
    process_per_scenario=False,
    flow_timeout=25.0,
    sharing_jobs=5,
    writes_users=4,
    writes_jobs=8,
)
"""Small and quick: every scenario and figure, in seconds (the test suite's smoke run)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """One run: a scenario at one N, each user with the flow it plays."""

    scenario: str
    users: tuple[tuple[int, str], ...]
    provider_s: float
    """The providers' own time for the whole run: one job's, after the last user's arrival."""
    job_seconds: float
    spread: float = 0.0
    """Seconds over which the users' first messages are spread (0: all at the same moment)."""
    result: str = "webp"
    """The image GPTunnel hands back: "webp" (as it does; converted for Telegram) or "jpeg"."""

    @property
    def gap(self) -> float:
        """Seconds between two users' arrivals."""
        return self.spread / len(self.users)


def plans(config: BenchConfig) -> list[Plan]:
    """Every job scenario at every size, the spread runs, then the long job; user ids never
    repeat."""
    ids = itertools.count(10_000_001)
    flows: dict[str, tuple[str, ...]] = {
        "imagine": ("imagine",),
        "describe": ("describe",),
        "mix": ("imagine", "describe", "gallery"),
    }
    gallery_floor = 4 * config.ailuna_seconds  # list, next page, the card's show and download
    floors = {
        "imagine": config.imagine_seconds,
        "describe": config.describe_seconds,
        "mix": max(config.imagine_seconds, config.describe_seconds, gallery_floor),
    }
    out = [
        Plan(
            scenario,
            tuple((next(ids), flows[scenario][i % len(flows[scenario])]) for i in range(n)),
            floors[scenario],
            config.imagine_seconds,
        )
        for scenario in JOB_SCENARIOS
        for n in config.sizes
    ]
    for scenario, flow, result in (
        ("imagine-spread", "imagine", "webp"),
        ("imagine-jpeg-spread", "imagine", "jpeg"),
        ("describe-spread", "describe", "webp"),
    ):
        users = tuple((next(ids), flow) for _ in range(config.spread_users))
        last_arrival = config.spread_seconds * (len(users) - 1) / len(users)
        out.append(
            Plan(
                scenario,
                users,
                last_arrival + floors[flow],
                config.imagine_seconds,
                spread=config.spread_seconds,
                result=result,
            )
        )
    for n in config.long_job_sizes:
        long_users = tuple((next(ids), "imagine") for _ in range(n))
        out.append(Plan(LONG_JOB, long_users, config.long_job_seconds, config.long_job_seconds))
    return out
