"""The real bot in-process: aiogram over HTTP against the fake Bot API and the provider fakes."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import Application, create_application
from bot.config import Settings, load_settings
from bot.jobs.timing import Timing
from bot.outbox import Pacing
from bot.storage import Storage, open_storage
from bot.storage.jobs import JobRecord
from playground.providers.ailuna import AiLunaState, make_app
from playground.providers.codexaeternum import FakeCodexAeternum
from playground.providers.describepicture import PATH as DESCRIBEPICTURE_PATH
from playground.providers.describepicture import FakeDescribePicture
from playground.providers.gptunnel import GPTunnelFake
from playground.providers.server import LoopbackServer
from playground.telegram import ApiCall, Chat, FakeBotApi, Message, User
from services.describepicture import PUBLISHED_KEY_HEX
from tests.conftest import Serve

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "4242:AAE_test-token-that-is-long-enough-123456"
GPTUNNEL_KEY = "shds-FAKEgptunnelKEY0123456789abcdef"
DESCRIBE_APP_ID = "app-id-0123456789-alice"
CODEX_EMAIL = "alice@example.com"
CODEX_SECRET = "codex-secret-token-0123456789"
FAST = Timing(poll_delays=(0.02,), poll_max=0.02, progress_every=0.05, action_every=0.05)
"""Production timing logic with short clocks, so jobs finish in milliseconds."""
FAST_PACING = Pacing(rate=10_000, private=(10_000, 1.0), group=(10_000, 1.0), tick=0.002)
"""The outbox's logic with budgets no test reaches; tests of pacing use Telegram's own."""

ALICE = User(id=1001, first_name="Alice", username="alice", language_code="en")
BOB = User(id=1002, first_name="Bob", username="bob", language_code="en-US")
GROUP = Chat(id=-100500, type="supergroup", title="Artists")


@asynccontextmanager
async def bot_process(
    env: dict[str, str], cwd: Path, *arguments: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot [arguments]` running until the block ends (then killed if still alive)."""
    log = (cwd / "bot.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *arguments, cwd=cwd, env=env, stdout=log, stderr=log
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        log.close()


@dataclass
class Iris:
    """A running bot and everything around it, played by a test."""

    api: FakeBotApi
    gptunnel: GPTunnelFake
    codex: FakeCodexAeternum
    describepicture: FakeDescribePicture
    ailuna: AiLunaState
    settings: Settings
    servers: dict[str, LoopbackServer]
    timing: Timing = FAST
    pacing: Pacing = FAST_PACING
    polling: asyncio.Task[None] | None = None
    current: Application | None = None

    @property
    def app(self) -> Application:
        """The application polling now."""
        assert self.current is not None, "the bot is not running"
        return self.current

    async def start(self) -> None:
        """Build a fresh application on the same settings and DATA_DIR, and poll with it."""
        self.current = await create_application(
            self.settings, timing=self.timing, pacing=self.pacing
        )
        calls_before = len(self.api.calls)
        self.polling = asyncio.create_task(
            self.app.dispatcher.start_polling(self.app.bot, handle_signals=False, polling_timeout=1)
        )
        # Startup hooks (resuming jobs among them) have run once polling begins.
        await self.api.wait_for("getUpdates", after=calls_before)

    async def stop(self) -> None:
        """Stop as on SIGTERM: polling ends, jobs stop where they are, storage closes."""
        assert self.polling is not None
        await self.app.dispatcher.stop_polling()
        await asyncio.wait_for(self.polling, 15)
        self.polling = None

    async def restart(self) -> None:
        """Stop, then start again on the same DATA_DIR."""
        await self.stop()
        await self.start()

    async def say(
        self,
        user: User,
        text: str,
        *,
        chat: Chat | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> Message:
        """The user sends a text (private chat unless `chat` is given; in a topic if given)."""
        return self.api.send_text(
            user, chat or Chat.private(user), text, reply_to=reply_to, thread_id=thread_id
        )

    async def reply(
        self, chat_id: int, *, after: int | None = None, timeout: float = 10
    ) -> ApiCall:
        """The next sendMessage of the bot into this chat."""
        return await self.api.wait_for(
            "sendMessage",
            where=lambda c: int(c.params["chat_id"]) == chat_id,
            after=after,
            timeout=timeout,
        )

    async def settled(self) -> None:
        """Wait until no job task or notice runs (re-checked on every Bot API call, polls
        included)."""
        await self.api.wait_until(lambda: self.app.runner.idle)

    async def job(self, job_id: int) -> JobRecord:
        """A job as stored now."""
        job = await self.app.storage.jobs.get(job_id)
        assert job is not None
        return job

    def requests(self, provider: str, method: str, path: str) -> int:
        """How many requests a provider fake received on one endpoint."""
        return len(self.servers[provider].calls(method, path))

    async def set_key(self, user: User, *parts: str) -> None:
        """Store a key through /setkey and wait for the confirmation."""
        mark = self.api.mark()
        self.api.send_text(user, Chat.private(user), "/setkey " + " ".join(parts))
        await self.api.wait_for(
            "sendMessage",
            where=lambda c: "Saved your" in str(c.params.get("text", "")),
            after=mark,
        )


def creates(iris: Iris) -> int:
    """GPTunnel create requests received: each one may cost money."""
    return iris.requests("gptunnel", "POST", "/v1/media/create")


def provider_requests(iris: Iris) -> int:
    """Requests any provider fake received."""
    return sum(
        len(iris.servers[name].requests)
        for name in ("gptunnel", "codexaeternum", "describepicture", "ailuna")
    )


async def answer_of(iris: Iris, query_id: str) -> str | None:
    """What answerCallbackQuery said to a press, once the bot answered it."""
    await iris.api.wait_until(lambda: iris.api.answers(query_id) is not None)
    answer = iris.api.answers(query_id)
    assert answer is not None
    return answer.text


async def status_deleted(iris: Iris, chat_id: int, *, after: int) -> None:
    """Wait until a job's status message is deleted: the job is done by then."""
    await iris.api.wait_for(
        "deleteMessage",
        where=lambda c: (
            int(c.params["chat_id"]) == chat_id
            and iris.api.message(chat_id, int(c.params["message_id"])).from_bot
        ),
        after=after,
    )


async def fill_quota(iris: Iris, app_id: str, *, hits: int, first: float) -> None:
    """Count `hits` DescribePicture requests for an appId, one a second from `first`."""
    key = hashlib.sha256(app_id.encode()).hexdigest()
    for i in range(hits):
        free_at = await iris.app.storage.quota.try_acquire(
            key, now=first + i, window=3600, limit=100
        )
        assert free_at is None


async def open_storage_of(settings: Settings) -> Storage:
    """The storage the bot with these settings uses (while it is stopped)."""
    secret, url = settings.keys_secret, settings.database_url
    return await open_storage(
        data_dir=settings.data_dir,
        keys_secret=secret.get_secret_value() if secret else None,
        database_url=url.get_secret_value() if url else None,
    )


def settings_for(tmp_path: Path, urls: dict[str, str], **overrides: Any) -> Settings:
    """Settings pointing every endpoint at the loopback fakes."""
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_url": urls["telegram"],
        "data_dir": tmp_path / "data",
        "gptunnel_url": urls["gptunnel"],
        "codexaeternum_url": urls["codexaeternum"],
        "describepicture_url": urls["describepicture"] + DESCRIBEPICTURE_PATH,
        "ailuna_url": urls["ailuna"],
        "job_timeout": 20,
        # Tests play quick users; the limit itself is tested with its own setting.
        "rate_limit_commands": 100,
    }
    values.update(overrides)
    return load_settings(_env_file=None, **values)


@asynccontextmanager
async def iris_running(
    serve: Serve,
    tmp_path: Path,
    *,
    timing: Timing = FAST,
    pacing: Pacing = FAST_PACING,
    **overrides: Any,
) -> AsyncIterator[Iris]:
    """Start the fakes and the bot; everything stops when the block ends."""
    # Telegram's flood limits stay off here until the bot paces its sending itself.
    api = FakeBotApi(TOKEN, limits=None)
    gptunnel = GPTunnelFake()
    codex = FakeCodexAeternum(users={CODEX_EMAIL: CODEX_SECRET})
    describepicture = FakeDescribePicture(
        key=bytes.fromhex(PUBLISHED_KEY_HEX),
        credits={DESCRIBE_APP_ID: 100},
    )
    ailuna = AiLunaState()
    servers = {
        "telegram": await serve(api.app()),
        "gptunnel": await serve(gptunnel.app()),
        "codexaeternum": await serve(codex.app()),
        "describepicture": await serve(describepicture.app()),
        "ailuna": await serve(make_app(ailuna)),
    }
    settings = settings_for(tmp_path, {name: s.url for name, s in servers.items()}, **overrides)
    iris = Iris(
        api=api,
        gptunnel=gptunnel,
        codex=codex,
        describepicture=describepicture,
        ailuna=ailuna,
        settings=settings,
        servers=servers,
        timing=timing,
        pacing=pacing,
    )
    await iris.start()
    try:
        yield iris
    finally:
        if iris.polling is not None:
            await iris.stop()
        assert api.errors == []
