"""The bots under test, each in its own process on a fresh emulated Bot API, and the providers'
fakes they share."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.config import TELEGRAM_RATE, UNPACED, Plan
from bench.driver import Driver
from bench.fakes import BenchBotApi, Served, SlowAiLuna, SlowDescribePicture, TimedGPTunnel, serve
from bench.images import result_jpeg
from bench.processes import BotProcess, bot_process
from bench.spans import Spans
from bot.storage import open_storage
from playground.providers.describepicture import PATH as DESCRIBEPICTURE_PATH
from playground.providers.gptunnel import API_KEY as GPTUNNEL_KEY
from services.ailuna import AiLunaCredential
from services.base import Credential
from services.describepicture import PUBLISHED_KEY_HEX, DescribePictureCredential

TOKEN = "4242:AAE_bench-token-that-is-long-enough-1234567"  # noqa: S105 - the fake's
KEYS_SECRET = base64.b64encode(bytes(range(32))).decode()
GALLERY_IMAGES = 12
"""Two pages of the gallery's ten, so Next ▶️ leads somewhere."""
NOWHERE = "http://127.0.0.1:9"
"""CodexAeternum has no credential in the benchmark, so the bot never calls it."""
IRIS_HELP_MARKER = "I'm Iris"


@dataclass(frozen=True, slots=True)
class Contender:
    """A running bot, its emulated Bot API, the driver playing its users, and what its answers
    to /help contain."""

    name: str
    bot: BotProcess
    api: BenchBotApi
    driver: Driver
    marker: str | None


class Fakes:
    """The providers' fakes, shared by every bot process, timing what they do for each user."""

    def __init__(self, *, result: bytes, describe_seconds: float, ailuna_seconds: float) -> None:
        self.spans = Spans()
        self.results = {"webp": result, "jpeg": result_jpeg()}
        self.gptunnel = TimedGPTunnel(image=result, spans=self.spans)
        self.describepicture = SlowDescribePicture()
        self.describepicture.seconds = describe_seconds
        self.ailuna = SlowAiLuna(image=result)
        self.ailuna.seconds = ailuna_seconds
        self._servers: dict[str, Served] = {}

    async def start(self) -> None:
        """Serve the providers."""
        for name, app in (
            ("gptunnel", self.gptunnel.app()),
            ("describepicture", self.describepicture.app()),
            ("ailuna", self.ailuna.app()),
        ):
            self._servers[name] = await serve(app, self.spans, name)

    async def close(self) -> None:
        """Stop serving."""
        for server in self._servers.values():
            await server.runner.cleanup()

    def env(self) -> dict[str, str]:
        """Iris's provider settings pointing at the fakes."""
        return {
            "GPTUNNEL_URL": self._servers["gptunnel"].url,
            "GPTUNNEL_API_KEY": GPTUNNEL_KEY,
            "DESCRIBEPICTURE_URL": self._servers["describepicture"].url + DESCRIBEPICTURE_PATH,
            "DESCRIBEPICTURE_KEY": PUBLISHED_KEY_HEX,
            "AILUNA_URL": self._servers["ailuna"].url,
            "CODEXAETERNUM_URL": NOWHERE,
        }

    def credentials(self, group: Sequence[Plan]) -> Iterator[tuple[int, Credential]]:
        """The own keys describe and gallery users need (the operator's GPTunnel key serves
        /imagine)."""
        for plan in group:
            for uid, flow in plan.users:
                if flow == "describe":
                    yield uid, DescribePictureCredential(self.describepicture.add_user(uid))
                elif flow == "gallery":
                    key = self.ailuna.add_user(uid, images=GALLERY_IMAGES)
                    yield uid, AiLunaCredential(key)


class Bots:
    """Starts bot processes, each on a fresh emulated Bot API with the limits on or off."""

    def __init__(self, fakes: Fakes, *, workdir: Path, photo: bytes, timeout: float) -> None:
        self._fakes = fakes
        self._workdir = workdir
        self._photo = photo
        self._timeout = timeout
        self._started = 0

    @asynccontextmanager
    async def iris(self, group: Sequence[Plan], *, limits: bool) -> AsyncIterator[Contender]:
        """Iris on a fresh DATA_DIR (with the group's keys); with `limits` off its outbox is
        unpaced too, so neither side stands for Telegram's limits (the throughput ceiling)."""
        self._started += 1
        name = f"iris-{self._started}"
        data_dir = self._workdir / name / "data"
        await self._seed(group, data_dir)
        async with self._telegram(limits=limits) as (api, url):
            env = iris_env(self._fakes, api_url=url, data_dir=data_dir, limits=limits)
            async with bot_process("bench.iris_bot", env=env, workdir=self._workdir / name) as bot:
                yield await self._ready("Iris", bot, api, IRIS_HELP_MARKER)

    @asynccontextmanager
    async def bare(self) -> AsyncIterator[Contender]:
        """The bare aiogram bot, on an emulated Bot API of its own with the limits off: it does
        not pace, so it stays the ceiling for update handling."""
        async with self._telegram(limits=False) as (api, url):
            env = {**_base_env(), "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url}
            workdir = self._workdir / "bare"
            async with bot_process("bench.bare_bot", env=env, workdir=workdir) as bot:
                yield await self._ready("bare aiogram bot", bot, api, None)

    async def _ready(
        self, name: str, bot: BotProcess, api: BenchBotApi, marker: str | None
    ) -> Contender:
        await bot.wait_ready(api.polled.wait())
        driver = Driver(api, photo=self._photo, timeout=self._timeout)
        return Contender(name, bot, api, driver, marker)

    @asynccontextmanager
    async def _telegram(self, *, limits: bool) -> AsyncIterator[tuple[BenchBotApi, str]]:
        api = BenchBotApi(TOKEN, self._fakes.spans, limits=limits)
        server = await serve(api.app(), self._fakes.spans, "telegram")
        try:
            yield api, server.url
        finally:
            await server.runner.cleanup()

    async def _seed(self, group: Sequence[Plan], data_dir: Path) -> None:
        """Store the users' keys as /setkey would, before the bot starts."""
        storage = await open_storage(data_dir=data_dir, keys_secret=KEYS_SECRET)
        try:
            for uid, credential in self._fakes.credentials(group):
                await storage.credentials.put(
                    uid, credential.provider, credential.to_parts(), masked=credential.masked()
                )
        finally:
            await storage.close()


def iris_env(fakes: Fakes, *, api_url: str, data_dir: Path, limits: bool) -> dict[str, str]:
    """Iris's environment on the emulated Bot API at `api_url`; with `limits` off its outbox is
    unpaced."""
    return {
        **_base_env(),
        **fakes.env(),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "TELEGRAM_RATE": f"{TELEGRAM_RATE:g}",
        "DATA_DIR": str(data_dir),
        "KEYS_SECRET": KEYS_SECRET,
        # Each user starts one job; the limit would only distort the throughput run.
        "RATE_LIMIT_COMMANDS": "1000",
        "PROVIDER_MAX_CONCURRENCY": "1024",
        **({} if limits else {UNPACED: "1"}),
    }


def _base_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "LOG_LEVEL": "INFO"}
