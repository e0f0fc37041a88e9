"""The playground: the Bot API emulator, Iris polling it, demo providers, and the web chat."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
from typing import Any

from pydantic import SecretStr

from bot.app import Application, create_application
from bot.config import Settings, SettingsError, load_settings
from bot.crypto import KeyFileError
from bot.jobs.timing import Timing
from bot.logs import setup_logging
from bot.providers import log_secrets, operator_credentials
from bot.storage.interfaces import SchemaTooNewError
from bot.storage.sqlite.lock import DataDirBusyError
from playground.loopback import LocalSite
from playground.providers.demo import DemoProviders
from playground.telegram import BOT_ID, FakeBotApi
from playground.web import web_chat

logger = logging.getLogger(__name__)

_PLACEHOLDER_TOKEN = "100000000:" + "x" * 35
"""Lets the settings load without a token; the playground makes up its own."""


def made_up_token() -> str:
    """A token of Telegram's shape that only the playground's emulator knows; it starts with the
    emulated bot's id, as a real token starts with its bot's."""
    return f"{BOT_ID}:{secrets.token_urlsafe(33)}"


def user_settings() -> Settings:
    """The environment's and `.env`'s settings, whether or not they hold a token."""
    return load_settings(bot_token=_PLACEHOLDER_TOKEN)


class PortTakenError(Exception):
    """The web chat's port cannot be served."""


class Playground:
    """Everything in one process: Telegram emulated, Iris polling it, the web chat."""

    def __init__(self, settings: Settings, *, demo: bool, timing: Timing | None = None) -> None:
        self.api = FakeBotApi(made_up_token())
        # @BotFather's /setinline and /setinlinefeedback, as the README asks of a real bot.
        self.api.inline_mode = True
        self.api.inline_feedback = True
        self.demo = DemoProviders(settings.describepicture_key_bytes) if demo else None
        self._base = settings
        self._timing = timing
        self._sites: list[LocalSite] = []
        self._polling: asyncio.Task[None] | None = None
        self.app: Application | None = None
        self.url = ""

    async def start(self, port: int) -> str:
        """Start every part; the web chat's URL (port 0: a free port)."""
        # The web chat's port first: if it is taken, nothing else has started.
        chat = LocalSite(web_chat(self.api))
        self._sites.append(chat)
        try:
            self.url = await chat.start(port)
        except OSError as e:
            raise PortTakenError(
                f"cannot serve the playground on 127.0.0.1:{port} ({e.strerror}): "
                "set PLAYGROUND_PORT to a free port"
            ) from None
        telegram = LocalSite(self.api.app())
        self._sites.append(telegram)
        changes: dict[str, Any] = {
            "bot_token": SecretStr(self.api.token),
            "telegram_api_url": await telegram.start(),
            "data_dir": self._base.data_dir / "playground",
            # Always its own SQLite database: a playground never touches a real bot's data.
            "database_url": None,
            "webhook_url": None,
            "metrics_port": None,
        }
        if self.demo is not None:
            demo = await self.demo.start()
            changes.update(
                {k: SecretStr(v) if k.endswith(("_key", "_id")) else v for k, v in demo.items()}
            )
            changes["operator_daily_limit"] = 1_000_000
        self.settings = self._base.model_copy(update=changes)
        self.app = await create_application(self.settings, timing=self._timing)
        polls = len(self.api.calls)
        self._polling = asyncio.create_task(
            self.app.dispatcher.start_polling(self.app.bot, handle_signals=False)
        )
        # The command menus are registered once polling has begun.
        await self.api.wait_for("getUpdates", after=polls, timeout=60)
        return self.url

    async def stop(self) -> None:
        """Stop Iris (its jobs stay stored), then the servers."""
        if self._polling is not None and self.app is not None:
            await self.app.dispatcher.stop_polling()
            await self._polling
        for site in reversed(self._sites):
            await site.close()
        if self.demo is not None:
            await self.demo.close()


async def serve(settings: Settings, *, demo: bool) -> None:
    """Run the playground until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    playground = Playground(settings, demo=demo)
    try:
        url = await playground.start(settings.playground_port)
        mode = "demo providers" if demo else "real providers"
        print(f"Iris playground ({mode}): open {url} — Ctrl+C stops it", flush=True)
        await stop.wait()
    finally:
        await playground.stop()


def main(*, demo: bool) -> int:
    """`python -m bot playground`: settings (one line per problem), then serve; an exit status."""
    try:
        settings = user_settings()
    except SettingsError as e:
        for line in e.lines:
            print(f"iris: {line}", file=sys.stderr)
        return 2
    demo = demo or not operator_credentials(settings)
    setup_logging(settings.log_level, log_format=settings.log_format, secrets=log_secrets(settings))
    try:
        asyncio.run(serve(settings, demo=demo))
    except (KeyFileError, SchemaTooNewError, DataDirBusyError, PortTakenError) as e:
        print(f"iris: {e}", file=sys.stderr)
        return 2
    return 0
