"""Iris as one or several instances on one database, in webhook mode behind a round-robin
spreader, on one emulated Bot API: the runs that measure what sharing the work costs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.contenders import TOKEN, Fakes, iris_env
from bench.driver import Driver
from bench.fakes import BenchBotApi, serve
from bench.processes import BotProcess, ProcessStats, bot_process
from playground.spreader import Spreader
from tests.postgres import free_port

HOOK_PATH = "/hook"
READY_TIMEOUT = 120.0
"""Seconds the emulator waits for an instance's setWebhook (the process's own start timeout,
shorter, fails first)."""


@dataclass(frozen=True, slots=True)
class Fleet:
    """The instances, their emulated Bot API and the driver playing the users."""

    bots: tuple[BotProcess, ...]
    api: BenchBotApi
    driver: Driver

    async def stats(self) -> list[ProcessStats]:
        """Each instance's figures now."""
        return list(await asyncio.gather(*(bot.stats() for bot in self.bots)))

    async def reset_peak(self) -> list[ProcessStats]:
        """Each instance's figures now; their peak RSS starts again."""
        return list(await asyncio.gather(*(bot.reset_peak() for bot in self.bots)))


@asynccontextmanager
async def fleet(
    fakes: Fakes,
    *,
    instances: int,
    database_url: str | None,
    workdir: Path,
    limits: bool,
    photo: bytes,
    timeout: float,
) -> AsyncIterator[Fleet]:
    """`instances` Iris processes (each with a DATA_DIR of its own under `workdir`, on
    `database_url` if given), started one after the other; every update reaches one of them."""
    api = BenchBotApi(TOKEN, fakes.spans, limits=limits)
    ports = [free_port() for _ in range(instances)]
    spreader = Spreader(ports, path=HOOK_PATH)
    async with AsyncExitStack() as stack:
        telegram = await serve(api.app(), fakes.spans, "telegram")
        stack.push_async_callback(telegram.runner.cleanup)
        balancer = await serve(spreader.app(), fakes.spans, "spreader")
        stack.push_async_callback(balancer.runner.cleanup)
        bots = []
        for number, port in enumerate(ports, start=1):
            folder = workdir / f"instance-{number}"
            env = {
                **iris_env(fakes, api_url=telegram.url, data_dir=folder / "data", limits=limits),
                "WEBHOOK_URL": balancer.url + HOOK_PATH,
                "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(port),
                **({"DATABASE_URL": database_url} if database_url else {}),
            }
            bot = await stack.enter_async_context(
                bot_process("bench.iris_bot", env=env, workdir=folder)
            )
            await bot.wait_ready(_webhook_set(api, times=number))
            bots.append(bot)
        yield Fleet(tuple(bots), api, Driver(api, photo=photo, timeout=timeout))


async def _webhook_set(api: BenchBotApi, *, times: int) -> None:
    """Once setWebhook has been called `times` times (each instance calls it once listening)."""
    await api.wait_until(lambda: len(api.calls_of("setWebhook")) >= times, timeout=READY_TIMEOUT)
