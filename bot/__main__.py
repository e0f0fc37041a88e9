"""Entry point: settings → logging → storage, Bot and Dispatcher with routers → polling."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import create_application
from bot.config import Settings, SettingsError, load_settings
from bot.crypto import KeyFileError
from bot.logs import setup_logging
from bot.providers import operator_secrets
from bot.storage.migrations import SchemaTooNewError

logger = logging.getLogger("bot")


async def run(settings: Settings) -> None:
    """Run the bot until SIGINT or SIGTERM."""
    app = await create_application(settings)
    logger.info("starting in polling mode")
    await app.dispatcher.start_polling(app.bot, handle_signals=True)


def main() -> int:
    """Load settings (one line per problem on failure), set up logging, run."""
    try:
        settings = load_settings()
    except SettingsError as e:
        for line in e.lines:
            print(f"iris: {line}", file=sys.stderr)
        return 2
    setup_logging(
        settings.log_level,
        log_format=settings.log_format,
        secrets=[settings.bot_token.get_secret_value(), *operator_secrets(settings)],
    )
    try:
        asyncio.run(run(settings))
    except (KeyFileError, SchemaTooNewError) as e:
        print(f"iris: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
