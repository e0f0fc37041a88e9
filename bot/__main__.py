"""Entry point: settings → logging → storage, Bot and Dispatcher with routers → Telegram
answers → polling or webhook."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot import check, migrate
from bot.app import create_application, freeze_heap
from bot.config import Settings, SettingsError, load_settings
from bot.crypto import KeyFileError
from bot.logs import origin, setup_logging
from bot.providers import log_secrets
from bot.startup import TokenRejectedError, get_me, unless_stopped, wait_for_telegram
from bot.storage.interfaces import SchemaTooNewError
from bot.storage.sqlite.lock import DataDirBusyError
from bot.webhook import serve_webhook
from bot.worker import serve_worker
from playground import session as playground

logger = logging.getLogger("bot")


WORKER_NEEDS_POSTGRES = (
    "a worker shares the jobs of a bot on PostgreSQL: set DATABASE_URL (with SQLite, one"
    " process runs everything)"
)


class StartupError(Exception):
    """A start that cannot go on, said in one line; `status` 2 when a setting must change."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


async def run(settings: Settings, *, worker: bool = False) -> None:
    """Wait until Telegram answers, then run the bot by webhook or by polling (a `worker`: its
    jobs only) until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = await create_application(settings, worker=worker)
    try:
        answered = await unless_stopped(wait_for_telegram(lambda: get_me(app.bot)), stop)
    except BaseException:
        await app.close()
        raise
    if not answered or stop.is_set():
        await app.close()
        logger.info("stopped before starting")
        return
    freeze_heap()
    try:
        if worker:
            await serve_worker(app, stop=stop)
        elif settings.webhook_url:
            logger.info("starting in webhook mode")
            try:
                await serve_webhook(app, settings, stop=stop)
            except TelegramBadRequest as e:
                refused = f"Telegram refused the webhook ({e.message}): check WEBHOOK_URL"
                raise StartupError(refused, status=2) from None
        else:
            logger.info("starting in polling mode")
            # aiogram's own signal handlers take over from here.
            await app.dispatcher.start_polling(app.bot, handle_signals=True)
    except TelegramAPIError as e:
        raise StartupError(f"Telegram stopped answering while starting ({e.message})") from None


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; unknown arguments print the usage and exit with status 2."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the Iris bot.")
    commands = parser.add_subparsers(
        dest="command", metavar="{check,playground,worker,migrate-to-postgres}"
    )
    checker = commands.add_parser(
        "check", help="check the settings, the Bot API, the database and operator keys, then exit"
    )
    checker.add_argument(
        "--providers",
        action="store_true",
        help="also make one free authenticated call per provider with an operator credential",
    )
    sandbox = commands.add_parser(
        "playground", help="try Iris in a local web chat, without a bot token"
    )
    sandbox.add_argument(
        "--demo",
        action="store_true",
        help="answer with provider emulators (the default when no provider key is set)",
    )
    commands.add_parser(
        "worker",
        help="run jobs only, taking no updates (several instances on PostgreSQL: DATABASE_URL)",
    )
    commands.add_parser(
        "migrate-to-postgres",
        help="copy DATA_DIR's SQLite data into the empty PostgreSQL database at DATABASE_URL",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Load settings (one line per problem on failure), set up logging, run (or check)."""
    arguments = parse_arguments(argv)
    if arguments.command == "playground":
        return playground.main(demo=arguments.demo)
    if arguments.command == "migrate-to-postgres":
        return migrate.main()
    try:
        settings = load_settings()
    except SettingsError as e:
        for line in e.lines:
            print(f"iris: {line}", file=sys.stderr)
        return 2
    if arguments.command == "check":
        return check.run(settings, providers=arguments.providers)
    redact = setup_logging(
        settings.log_level,
        log_format=settings.log_format,
        secrets=log_secrets(settings),
    )
    if arguments.command == "worker" and settings.database_url is None:
        print(f"iris: {WORKER_NEEDS_POSTGRES}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(settings, worker=arguments.command == "worker"))
    except (KeyFileError, SchemaTooNewError, DataDirBusyError, TokenRejectedError) as e:
        print(f"iris: {redact.scrub(str(e))}", file=sys.stderr)
        return 2
    except StartupError as e:
        print(f"iris: {redact.scrub(str(e))}", file=sys.stderr)
        return e.status
    except OSError as e:  # a port taken, DATA_DIR not writable
        print(f"iris: could not start: {redact.scrub(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # SIGINT before the bot's own handlers were in place
        return 0
    except Exception as e:  # noqa: BLE001 - the last resort: type and place, never a traceback
        print(f"iris: stopped by an unexpected error: {origin(e)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
