"""Entry point: settings → logging → storage, Bot and Dispatcher with routers → polling."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from bot import check
from bot.app import create_application, freeze_heap
from bot.config import Settings, SettingsError, load_settings
from bot.crypto import KeyFileError
from bot.logs import setup_logging
from bot.providers import log_secrets
from bot.storage.interfaces import SchemaTooNewError
from bot.storage.sqlite.lock import DataDirBusyError
from bot.webhook import serve_webhook

logger = logging.getLogger("bot")


async def run(settings: Settings) -> None:
    """Run the bot, by webhook or by polling, until SIGINT or SIGTERM."""
    app = await create_application(settings)
    freeze_heap()
    if settings.webhook_url:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        logger.info("starting in webhook mode")
        await serve_webhook(app, settings, stop=stop)
    else:
        logger.info("starting in polling mode")
        await app.dispatcher.start_polling(app.bot, handle_signals=True)


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; unknown arguments print the usage and exit with status 2."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the Iris bot.")
    commands = parser.add_subparsers(dest="command", metavar="{check}")
    checker = commands.add_parser(
        "check", help="check the settings, the Bot API, the database and operator keys, then exit"
    )
    checker.add_argument(
        "--providers",
        action="store_true",
        help="also make one free authenticated call per provider with an operator credential",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Load settings (one line per problem on failure), set up logging, run (or check)."""
    arguments = parse_arguments(argv)
    try:
        settings = load_settings()
    except SettingsError as e:
        for line in e.lines:
            print(f"iris: {line}", file=sys.stderr)
        return 2
    if arguments.command == "check":
        return check.run(settings, providers=arguments.providers)
    setup_logging(
        settings.log_level,
        log_format=settings.log_format,
        secrets=log_secrets(settings),
    )
    try:
        asyncio.run(run(settings))
    except (KeyFileError, SchemaTooNewError, DataDirBusyError) as e:
        print(f"iris: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
