"""The parent side: start a bot in its own process, ask it for its figures, stop it."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 30.0
"""Seconds a bot gets to stop by itself once its stdin closes (Iris waits for paid calls)."""


class BotProcessError(Exception):
    """The bot process died or stopped answering."""


@dataclass(frozen=True, slots=True)
class ProcessStats:
    """What a bot process reports about itself at one moment."""

    cpu: float
    """User + system CPU seconds so far, all threads."""
    rss_kb: int
    hwm_kb: int
    """Peak RSS since the start, or since the last reset."""
    writes: int = 0
    """Committed SQLite writes (Iris only)."""
    running: int = 0
    """Job tasks alive (Iris only)."""


class BotProcess:
    """A running bot process and its stats channel (stdin/stdout, one JSON line per request)."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self._process = process
        self.log = log

    @property
    def pid(self) -> int:
        """The process id (for a profiler)."""
        return self._process.pid

    async def stats(self) -> ProcessStats:
        """The bot's figures now."""
        return await self._ask(b"stats\n")

    async def reset_peak(self) -> ProcessStats:
        """The bot's figures now; its peak RSS starts again from the current RSS."""
        return await self._ask(b"reset\n")

    async def wait_ready(self, ready: Awaitable[object], *, timeout: float = 60) -> None:
        """Wait for `ready` (the fakes seeing the bot poll, or set its webhook), failing if the
        bot dies first."""
        waiter = asyncio.ensure_future(ready)
        died = asyncio.ensure_future(self._process.wait())
        done, _ = await asyncio.wait({waiter, died}, timeout=timeout, return_when="FIRST_COMPLETED")
        waiter.cancel()
        died.cancel()
        if waiter not in done:
            raise BotProcessError(f"the bot did not start taking updates; see {self.log}")

    async def stop(self) -> None:
        """Close stdin (the bot stops polling and shuts down); kill it if it takes too long."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    async def _ask(self, request: bytes) -> ProcessStats:
        assert self._process.stdin is not None and self._process.stdout is not None
        try:
            self._process.stdin.write(request)
            await self._process.stdin.drain()
            line = await asyncio.wait_for(self._process.stdout.readline(), 30)
        except (ConnectionError, TimeoutError) as e:
            raise BotProcessError(f"the bot does not answer; see {self.log}") from e
        if not line:
            raise BotProcessError(f"the bot exited; see {self.log}")
        values = json.loads(line)
        return ProcessStats(
            cpu=float(values["cpu"]),
            rss_kb=int(values["rss_kb"]),
            hwm_kb=int(values["hwm_kb"]),
            writes=int(values.get("writes", 0)),
            running=int(values.get("running", 0)),
        )


@asynccontextmanager
async def bot_process(
    module: str, *, env: Mapping[str, str], workdir: Path
) -> AsyncIterator[BotProcess]:
    """`python -m <module>` in `workdir` (so no stray .env is read), logging to a file there."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    log = workdir / f"{module.rpartition('.')[2]}.log"
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            cwd=workdir,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
        )
    bot = BotProcess(process, log)
    try:
        yield bot
    finally:
        if process.returncode is None:
            await bot.stop()
