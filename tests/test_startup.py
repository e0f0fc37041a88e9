"""The real process at start: Telegram not up yet, a rejected token, a refused webhook, a stop
while waiting; one line each, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import GetMe
from aiohttp import web

from bot.startup import REMIND_EVERY, wait_for_telegram
from playground.telegram import Chat, FakeBotApi
from tests.checks import text_has
from tests.conftest import Serve
from tests.harness import ALICE, ROOT, TOKEN
from tests.test_bot_operations import free_port

START_TIMEOUT = 30.0
"""Seconds the process may take to start (imports on a busy machine) and to say something."""

NOT_REACHABLE = "Telegram is not reachable yet"


def bot_env(tmp_path: Path, telegram_url: str, **extra: str) -> dict[str, str]:
    """The bot's environment: only what it needs, pointed at `telegram_url`."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram_url,
        "DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


@dataclass
class Stderr:
    """The process's stderr, line by line, as it comes."""

    lines: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False

    async def wait_for(self, predicate: Callable[[str], bool], *, timeout: float) -> str:
        """The first line matching `predicate`, waiting for it to be written."""
        async with asyncio.timeout(timeout):
            while True:
                found = next((line for line in self.lines if predicate(line)), None)
                if found is not None:
                    return found
                assert not self.ended, "the process ended without it:\n" + self.text
                self.changed.clear()
                await self.changed.wait()

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "".join(self.lines)


@asynccontextmanager
async def running_bot(
    env: dict[str, str], cwd: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Stderr]]:
    """`python -m bot` with its stderr read as it comes; killed at the end if still alive."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stderr = Stderr()

    async def read() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            stderr.lines.append(line.decode())
            stderr.changed.set()
        stderr.ended = True
        stderr.changed.set()

    reader = asyncio.create_task(read())
    try:
        yield process, stderr
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader


async def serve_on(app: web.Application, port: int) -> web.AppRunner:
    """Serve `app` on 127.0.0.1:`port` (the port the bot was told)."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_waits_for_telegram_then_comes_up_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(tmp_path, f"http://127.0.0.1:{port}")
    async with running_bot(env, tmp_path) as (process, stderr):
        await stderr.wait_for(lambda line: NOT_REACHABLE in line, timeout=START_TIMEOUT)
        assert process.returncode is None
        api = FakeBotApi(TOKEN)
        telegram = await serve_on(api.app(), port)
        try:
            await asyncio.wait_for(api.polled.wait(), START_TIMEOUT)
            api.send_text(ALICE, Chat.private(ALICE), "/start")
            await api.wait_for("sendMessage", where=text_has("Hi! I'm Iris"), timeout=10)
            await stderr.wait_for(lambda line: "Telegram answered after" in line, timeout=1)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
        finally:
            await telegram.cleanup()
    assert sum(NOT_REACHABLE in line for line in stderr.lines) == 1, stderr.text
    assert "Traceback" not in stderr.text
    assert TOKEN not in stderr.text
    assert api.errors == []


@pytest.mark.parametrize("answer", ["401 Unauthorized", "404 Not Found"])
async def test_a_token_telegram_rejects_stops_with_one_line(
    serve: Serve, tmp_path: Path, answer: str
) -> None:
    code, description = answer.split(" ", 1)
    api = FakeBotApi(TOKEN)
    api.fail_next("getMe", error_code=int(code), description=description)
    server = await serve(api.app())
    env = bot_env(tmp_path, server.url, LOG_LEVEL="WARNING")
    async with running_bot(env, tmp_path) as (process, stderr):
        assert await asyncio.wait_for(process.wait(), START_TIMEOUT) == 2
    assert stderr.lines == [
        f"iris: Telegram rejected BOT_TOKEN ({description}): check it with @BotFather\n"
    ]
    assert not api.called("getUpdates")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_while_waiting_for_telegram_stops_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    env = bot_env(tmp_path, f"http://127.0.0.1:{free_port()}")
    async with running_bot(env, tmp_path) as (process, stderr):
        await stderr.wait_for(lambda line: NOT_REACHABLE in line, timeout=START_TIMEOUT)
        process.send_signal(sig)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    assert "stopped before starting" in stderr.text
    assert "Traceback" not in stderr.text


async def test_a_webhook_telegram_refuses_stops_with_one_line(serve: Serve, tmp_path: Path) -> None:
    api = FakeBotApi(TOKEN)
    api.fail_next("setWebhook", error_code=400, description="Bad Request: bad webhook: IP blocked")
    server = await serve(api.app())
    port = free_port()
    env = bot_env(
        tmp_path,
        server.url,
        WEBHOOK_URL=f"https://bot.example/{port}/hook",
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="WARNING",
    )
    async with running_bot(env, tmp_path) as (process, stderr):
        assert await asyncio.wait_for(process.wait(), START_TIMEOUT) == 2
    assert stderr.lines == [
        "iris: Telegram refused the webhook (Bad Request: bad webhook: IP blocked): "
        "check WEBHOOK_URL\n"
    ]


async def test_a_metrics_port_in_use_stops_with_one_line(serve: Serve, tmp_path: Path) -> None:
    api = FakeBotApi(TOKEN)
    server = await serve(api.app())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_env(tmp_path, server.url, METRICS_PORT=str(port), LOG_LEVEL="WARNING")
        async with running_bot(env, tmp_path) as (process, stderr):
            assert await asyncio.wait_for(process.wait(), START_TIMEOUT) == 1
    [line] = stderr.lines
    assert line.startswith("iris: could not start: ") and str(port) in line, line
    assert not api.called("getUpdates")


async def test_the_wait_backs_off_to_a_minute_and_logs_rarely(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    waits: list[float] = []
    failures = iter(range(40))

    async def probe() -> None:
        if next(failures, None) is not None:
            raise TelegramNetworkError(method=GetMe(), message="ClientConnectorError: refused")

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with caplog.at_level(logging.INFO, logger="bot.startup"):
        await wait_for_telegram(probe, clock=lambda: now[0], sleep=sleep, rng=random.Random(7))
    assert len(waits) == 40
    assert waits[0] <= 1 and max(waits) <= 60 and min(waits[10:]) >= 30
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "Telegram is not reachable yet (ClientConnectorError: refused); retrying"
    reminders = [line for line in lines if "still not reachable" in line]
    assert 0 < len(reminders) <= now[0] / REMIND_EVERY
    assert lines[-1] == f"Telegram answered after {int(now[0])} s"
    assert len(lines) == 2 + len(reminders)


async def test_the_wait_honours_flood_control() -> None:
    waits: list[float] = []
    answers = iter([TelegramRetryAfter(method=GetMe(), message="Too Many Requests", retry_after=7)])

    async def probe() -> None:
        if (error := next(answers, None)) is not None:
            raise error

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    await wait_for_telegram(probe, sleep=sleep)
    assert waits == [7]
