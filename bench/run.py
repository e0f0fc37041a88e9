"""Runs every scenario against Iris in its own process, and the bare bot, and collects figures."""

from __future__ import annotations

import asyncio
import base64
import gc
import itertools
import logging
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.driver import Driver, Step, bench_user
from bench.fakes import (
    BenchBotApi,
    Served,
    SlowAiLuna,
    SlowDescribePicture,
    TimedGPTunnel,
    serve,
)
from bench.figures import (
    PROVIDERS,
    Burst,
    MessageFigures,
    RunFigures,
    ThroughputFigures,
    overhead_ms,
    percentile,
)
from bench.images import result_image, result_jpeg, user_photo
from bench.processes import BotProcess, ProcessStats, bot_process
from bench.spans import Spans
from bot.storage import open_storage
from playground.providers.describepicture import PATH as DESCRIBEPICTURE_PATH
from playground.providers.gptunnel import API_KEY as GPTUNNEL_KEY
from playground.telegram import User
from services.ailuna import AiLunaCredential
from services.base import Credential
from services.describepicture import PUBLISHED_KEY_HEX, DescribePictureCredential
from services.images import telegram_photo

logger = logging.getLogger(__name__)

TOKEN = "4242:AAE_bench-token-that-is-long-enough-1234567"  # noqa: S105 - the fake's
KEYS_SECRET = base64.b64encode(bytes(range(32))).decode()
GALLERY_IMAGES = 12
"""Two pages of the gallery's ten, so Next ▶️ leads somewhere."""
NOWHERE = "http://127.0.0.1:9"
"""CodexAeternum has no credential in the benchmark, so the bot never calls it."""
LONG_JOB = "long-job"
SPREAD_SCENARIOS = ("imagine-spread", "imagine-jpeg-spread", "describe-spread")
MESSAGE = "/help"
IRIS_HELP_MARKER = "I'm Iris"


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
    long_job_users: int = 10
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


SMOKE = BenchConfig(
    sizes=(5,),
    imagine_seconds=1.0,
    describe_seconds=0.2,
    ailuna_seconds=0.05,
    long_job_seconds=2.0,
    long_job_users=2,
    spread_users=5,
    spread_seconds=0.5,
    throughput_users=5,
    throughput_per_user=4,
    queue_repeats=1,
    process_per_scenario=False,
    flow_timeout=25.0,
)
"""Small and quick: every scenario and figure, in seconds (the test suite's smoke run)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """One run: a scenario at one N, each user with the flow it plays."""

    scenario: str
    users: tuple[tuple[int, str], ...]
    floor: float
    job_seconds: float
    spread: float = 0.0
    """Seconds over which the users' first messages are spread (0: all at the same moment)."""
    result: str = "webp"
    """The image GPTunnel hands back: "webp" (as it does; converted for Telegram) or "jpeg"."""


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


@dataclass(frozen=True, slots=True)
class _Contender:
    """A running bot, the driver playing its users, and what its answers to /help contain."""

    name: str
    bot: BotProcess
    driver: Driver
    marker: str | None
    polling: asyncio.Event
    """Set once the bot polls its fake Bot API: it has started."""


@dataclass(frozen=True, slots=True)
class _Queue:
    seconds: float
    answered: int
    cpu_ms_per_update: float
    harness_cpu_share: float


def plans(config: BenchConfig) -> list[Plan]:
    """Every job scenario at every size, then the long job; user ids never repeat."""
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
        for scenario in ("imagine", "describe", "mix")
        for n in config.sizes
    ]
    for scenario, flow, result in (
        ("imagine-spread", "imagine", "webp"),
        ("imagine-jpeg-spread", "imagine", "jpeg"),
        ("describe-spread", "describe", "webp"),
    ):
        users = tuple((next(ids), flow) for _ in range(config.spread_users))
        out.append(
            Plan(
                scenario,
                users,
                floors[flow],
                config.imagine_seconds,
                spread=config.spread_seconds,
                result=result,
            )
        )
    long_users = tuple((next(ids), "imagine") for _ in range(config.long_job_users))
    out.append(Plan(LONG_JOB, long_users, config.long_job_seconds, config.long_job_seconds))
    return out


async def run_bench(config: BenchConfig, *, workdir: Path) -> BenchResults:
    """Start the fakes, run every plan and both throughput runs, stop everything."""
    result, photo = result_image(), user_photo()
    load_before = os.getloadavg()[0]
    bench = _Bench(config, workdir=workdir, result=result, photo=photo)
    await bench.start()
    try:
        runs, throughput = await bench.run()
    finally:
        await bench.close()
    return BenchResults(
        config=config,
        runs=tuple(runs),
        throughput=throughput,
        result_kb=len(result) / 1024,
        photo_kb=len(photo) / 1024,
        load=(load_before, os.getloadavg()[0]),
        conversion_ms=_conversion_ms(result),
        aiogram_import_mb=await _aiogram_import_mb(),
    )


class _Bench:
    """The fakes, shared by every process; a fresh fake Bot API for each bot process."""

    def __init__(self, config: BenchConfig, *, workdir: Path, result: bytes, photo: bytes) -> None:
        self._config = config
        self._workdir = workdir
        self._photo = photo
        self._results = {"webp": result, "jpeg": result_jpeg()}
        self._spans = Spans()
        self._gptunnel = TimedGPTunnel(image=result, spans=self._spans)
        self._describepicture = SlowDescribePicture()
        self._describepicture.seconds = config.describe_seconds
        self._ailuna = SlowAiLuna(image=result)
        self._ailuna.seconds = config.ailuna_seconds
        self._servers: dict[str, Served] = {}
        self._bots = itertools.count(1)
        self._ids = itertools.count(20_000_001)

    async def start(self) -> None:
        """Serve the providers."""
        for name, app in (
            ("gptunnel", self._gptunnel.app()),
            ("describepicture", self._describepicture.app()),
            ("ailuna", self._ailuna.app()),
        ):
            self._servers[name] = await serve(app, self._spans, name)

    async def close(self) -> None:
        """Stop serving."""
        for server in self._servers.values():
            await server.runner.cleanup()

    async def run(self) -> tuple[list[RunFigures], ThroughputFigures]:
        """Every plan (a process per scenario, or one for all), then Iris against the bare bot."""
        runs: list[RunFigures] = []
        todo = plans(self._config)
        if self._config.process_per_scenario:
            for _, group in itertools.groupby(todo, key=lambda p: p.scenario):
                plans_ = list(group)
                async with self._iris(plans_) as iris:
                    await _started(iris)
                    runs += [await self._execute(plan, iris) for plan in plans_]
            async with self._iris([]) as iris, self._bare() as bare:
                await _started(iris, bare)
                return runs, await self._compare(iris, bare)
        # One Iris for everything; the bare bot starts beside it (it idles until its turn).
        async with self._iris(todo) as iris, self._bare() as bare:
            await _started(iris, bare)
            runs += [await self._execute(plan, iris) for plan in todo]
            return runs, await self._compare(iris, bare)

    async def _execute(self, plan: Plan, iris: _Contender) -> RunFigures:
        logger.info("%s with N=%d", plan.scenario, len(plan.users))
        bot, driver = iris.bot, iris.driver
        self._gptunnel.seconds = plan.job_seconds
        self._gptunnel.fake.image = self._results[plan.result]
        flows: dict[str, Callable[[User], Awaitable[list[Step]]]] = {
            "imagine": driver.imagine,
            "describe": driver.describe,
            "gallery": driver.gallery,
        }
        _settle_harness()
        before = await bot.reset_peak()
        requests_before = Counter(self._spans.requests)
        harness_before = _own_cpu()
        gap = plan.spread / len(plan.users)
        done = await asyncio.gather(
            *(
                _after(i * gap, flows[flow](bench_user(uid)))
                for i, (uid, flow) in enumerate(plan.users)
            )
        )
        after = await bot.stats()
        harness = _own_cpu() - harness_before
        requests = Counter(self._spans.requests)
        requests.subtract(requests_before)
        return self._figures(
            plan, [step for steps in done for step in steps], before, after, requests, harness
        )

    def _figures(
        self,
        plan: Plan,
        steps: Sequence[Step],
        before: ProcessStats,
        after: ProcessStats,
        requests: Counter[str],
        harness_cpu: float,
    ) -> RunFigures:
        n = len(plan.users)
        users = [uid for uid, _ in plan.users]
        generations = sum(1 for _, flow in plan.users if flow == "imagine")
        jobs = _values(overhead_ms(self._spans.of(s.user), s, s.done) for s in steps)
        updates = _values(overhead_ms(self._spans.of(s.user), s, s.first) for s in steps)
        ends = [s.done for s in steps if s.done is not None]
        wall = max(ends) - min(s.sent for s in steps) if ends else float("nan")
        provider = sum(v for k, v in requests.items() if k.partition(" ")[0] in PROVIDERS)
        polls = sum(v for k, v in requests.items() if k.endswith(" /v1/media/result"))
        return RunFigures(
            scenario=plan.scenario,
            n=n,
            steps=len(steps),
            completed=len(ends),
            wall_s=wall,
            floor_s=plan.floor,
            update_p50_ms=percentile(updates, 50),
            update_p99_ms=percentile(updates, 99),
            job_p50_ms=percentile(jobs, 50),
            job_p99_ms=percentile(jobs, 99),
            peak_rss_mb=after.hwm_kb / 1024,
            rss_per_job_kb=(after.hwm_kb - before.rss_kb) / n,
            cpu_ms_per_job=1000 * (after.cpu - before.cpu) / n,
            provider_requests_per_job=provider / n,
            result_polls_per_job=polls / generations if generations else None,
            writes_per_job=(after.writes - before.writes) / n,
            telegram_calls_per_job=self._spans.count(users, "telegram") / n,
            harness_cpu_share=harness_cpu / wall if ends and wall > 0 else float("nan"),
        )

    async def _compare(self, iris: _Contender, bare: _Contender) -> ThroughputFigures:
        """Bursts of N messages for each bot, then the queue, alternately, best of the repeats.

        The machine may be shared: alternating and keeping each bot's best run compares the
        two under the same conditions.
        """
        _settle_harness()
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

    async def _bursts(self, contender: _Contender) -> tuple[Burst, ...]:
        logger.info("bursts of messages to %s", contender.name)
        bursts = []
        for n in self._config.sizes:
            steps = await self._chat(contender, users=n, times=1)
            latencies = [overhead_ms(self._spans.of(s.user), s, s.first) for s in steps]
            values = [v for v in latencies if v is not None]
            bursts.append(Burst(n, percentile(values, 50), percentile(values, 99)))
        return tuple(bursts)

    async def _queue(self, contender: _Contender) -> _Queue:
        logger.info("a queue of messages to %s", contender.name)
        before, harness_before = await contender.bot.stats(), _own_cpu()
        steps = await self._chat(
            contender,
            users=self._config.throughput_users,
            times=self._config.throughput_per_user,
        )
        after, harness = await contender.bot.stats(), _own_cpu() - harness_before
        ends = [s.done for s in steps if s.done is not None]
        seconds = max(ends) - min(s.sent for s in steps) if ends else float("nan")
        return _Queue(
            seconds=seconds,
            answered=len(ends),
            cpu_ms_per_update=1000 * (after.cpu - before.cpu) / max(1, len(ends)),
            harness_cpu_share=harness / seconds if ends and seconds > 0 else float("nan"),
        )

    async def _chat(self, contender: _Contender, *, users: int, times: int) -> list[Step]:
        chat, marker = contender.driver.chat, contender.marker
        done = await asyncio.gather(
            *(
                chat(bench_user(next(self._ids)), text=MESSAGE, times=times, marker=marker)
                for _ in range(users)
            )
        )
        return [step for steps in done for step in steps]

    @asynccontextmanager
    async def _iris(self, group: Sequence[Plan]) -> AsyncIterator[_Contender]:
        """Iris starting on a fresh DATA_DIR (with the group's keys) and a fresh fake Bot API."""
        name = f"iris-{next(self._bots)}"
        data_dir = self._workdir / name / "data"
        await self._seed(group, data_dir)
        async with self._telegram() as (api, url):
            env = {
                **_base_env(),
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": url,
                "DATA_DIR": str(data_dir),
                "KEYS_SECRET": KEYS_SECRET,
                "GPTUNNEL_URL": self._servers["gptunnel"].url,
                "GPTUNNEL_API_KEY": GPTUNNEL_KEY,
                "DESCRIBEPICTURE_URL": self._servers["describepicture"].url + DESCRIBEPICTURE_PATH,
                "DESCRIBEPICTURE_KEY": PUBLISHED_KEY_HEX,
                "AILUNA_URL": self._servers["ailuna"].url,
                "CODEXAETERNUM_URL": NOWHERE,
                # Each user starts one job; the limit would only distort the throughput run.
                "RATE_LIMIT_COMMANDS": "1000",
                "PROVIDER_MAX_CONCURRENCY": "1024",
            }
            async with bot_process("bench.iris_bot", env=env, workdir=self._workdir / name) as bot:
                driver = Driver(api, photo=self._photo, timeout=self._config.flow_timeout)
                yield _Contender("Iris", bot, driver, IRIS_HELP_MARKER, api.polled)

    @asynccontextmanager
    async def _bare(self) -> AsyncIterator[_Contender]:
        async with self._telegram() as (api, url):
            env = {**_base_env(), "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url}
            workdir = self._workdir / "bare"
            async with bot_process("bench.bare_bot", env=env, workdir=workdir) as bot:
                driver = Driver(api, photo=self._photo, timeout=self._config.flow_timeout)
                yield _Contender("bare aiogram bot", bot, driver, None, api.polled)

    @asynccontextmanager
    async def _telegram(self) -> AsyncIterator[tuple[BenchBotApi, str]]:
        api = BenchBotApi(TOKEN, self._spans)
        server = await serve(api.app(), self._spans, "telegram")
        try:
            yield api, server.url
        finally:
            await server.runner.cleanup()

    async def _seed(self, group: Sequence[Plan], data_dir: Path) -> None:
        """Store the own keys describe and gallery users need (the operator's GPTunnel key serves
        /imagine), as /setkey would, before the bot starts."""
        storage = await open_storage(data_dir=data_dir, keys_secret=KEYS_SECRET)
        try:
            for uid, credential in self._credentials(group):
                await storage.credentials.put(
                    uid, credential.provider, credential.to_parts(), masked=credential.masked()
                )
        finally:
            await storage.close()

    def _credentials(self, group: Sequence[Plan]) -> Iterator[tuple[int, Credential]]:
        for plan in group:
            for uid, flow in plan.users:
                if flow == "describe":
                    yield uid, DescribePictureCredential(self._describepicture.add_user(uid))
                elif flow == "gallery":
                    key = self._ailuna.add_user(uid, images=GALLERY_IMAGES)
                    yield uid, AiLunaCredential(key)


async def _after(delay: float, flow: Awaitable[list[Step]]) -> list[Step]:
    """Play `flow` once `delay` seconds have passed (spread arrivals)."""
    if delay > 0:
        await asyncio.sleep(delay)
    return await flow


async def _started(*contenders: _Contender) -> None:
    """Wait until every bot polls (they start side by side)."""
    await asyncio.gather(*(c.bot.wait_ready(c.polling) for c in contenders))


def _settle_harness() -> None:
    """Collect garbage, then freeze what is left before a run.

    The harness keeps every span of the benchmark: a full collection of that heap in the middle
    of a run stalled the fakes for 100+ ms, and the stall counted as the bot's time.
    """
    gc.collect()
    gc.freeze()


def _conversion_ms(image: bytes) -> float:
    times = []
    for _ in range(5):
        start = time.process_time()
        telegram_photo(image)
        times.append(time.process_time() - start)
    return 1000 * min(times)


async def _aiogram_import_mb() -> float:
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its forking parent's.
    code = (
        "import aiogram, re, pathlib; "
        "print(re.search(r'VmHWM:\\s+(\\d+)', pathlib.Path('/proc/self/status').read_text())[1])"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    return int(out) / 1024


def _base_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "LOG_LEVEL": "INFO"}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _values(values: Iterator[float | None] | Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]
