"""Several `python -m bot` processes on one PostgreSQL database, fed by webhook through a
round-robin spreader, as behind a load balancer."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playground.providers.gptunnel import GPTunnelFake
from playground.providers.server import LoopbackServer
from playground.spreader import Spreader
from playground.telegram import FakeBotApi
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import bot_process
from tests.postgres import free_port, job_leases
from tests.test_e2e import pending_gptunnel_setup

HOOK_PATH = "/telegram"
WEBHOOK_SECRET = "fleet-webhook-secret"
STARTUP = 60.0
"""Seconds for every instance to register its webhook: processes start slowly on a busy host."""


@dataclass
class Fleet:
    """The running instances and the fakes they share."""

    api: FakeBotApi
    gptunnel: GPTunnelFake
    provider: LoopbackServer
    spreader: Spreader
    database_url: str
    folders: list[Path]
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    def log(self, index: int) -> str:
        """What one instance has logged so far."""
        return (self.folders[index] / "bot.log").read_text()

    def creates(self) -> int:
        """GPTunnel create requests received: each one may cost money."""
        return len(self.provider.calls("POST", "/v1/media/create"))

    async def stop(self, index: int, sig: signal.Signals) -> int:
        """Send the signal to one instance; its exit status once it ended."""
        process = self.processes[index]
        process.send_signal(sig)
        status: int = await process.wait()
        return status

    async def job_states(self) -> list[str]:
        """Every job's state, as stored now, oldest first."""
        jobs = await job_leases(self.database_url)
        return [jobs[job_id][0] for job_id in sorted(jobs)]


@asynccontextmanager
async def fleet_running(
    serve: Serve, tmp_path: Path, database_url: str, *, size: int = 3, job_lease: float = 2.0
) -> AsyncIterator[Fleet]:
    """`size` instances in webhook mode on one database, each with its own DATA_DIR, behind one
    WEBHOOK_URL (the spreader); GPTunnel answers "processing" until `final_status` changes."""
    ports = [free_port() for _ in range(size)]
    spreader = Spreader(ports, path=HOOK_PATH)
    hook = await serve(spreader.app())
    api, gptunnel, provider, env = await pending_gptunnel_setup(
        serve, tmp_path,
        DATABASE_URL=database_url, KEYS_SECRET=TEST_KEYS_SECRET, JOB_LEASE=str(job_lease),
        WEBHOOK_URL=hook.url + HOOK_PATH, WEBHOOK_SECRET=WEBHOOK_SECRET, WEBHOOK_HOST="127.0.0.1",
    )  # fmt: skip
    folders = [tmp_path / f"instance-{i}" for i in range(size)]
    fleet = Fleet(api, gptunnel, provider, spreader, database_url, folders)
    async with AsyncExitStack() as stack:
        for folder, port in zip(folders, ports, strict=True):
            folder.mkdir()
            own = {"WEBHOOK_PORT": str(port), "DATA_DIR": str(folder / "data")}
            fleet.processes.append(
                await stack.enter_async_context(bot_process({**env, **own}, folder))
            )
        await api.wait_until(lambda: len(api.calls_of("setWebhook")) == size, timeout=STARTUP)
        yield fleet
