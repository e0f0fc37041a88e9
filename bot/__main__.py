"""Entry point: settings → logging → HTTP and providers → Bot/Dispatcher → routers → polling."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.app import create_bot, create_dispatcher
from bot.config import Settings, SettingsError, load_settings
from bot.logs import setup_logging
from bot.providers import build_providers, operator_secrets
from services.http import new_session

logger = logging.getLogger("bot")


async def run(settings: Settings) -> None:
    """Run the bot until it is stopped."""
    http = new_session()
    providers = build_providers(settings, http)
    bot = create_bot(settings)
    dispatcher = create_dispatcher(settings=settings, http=http, providers=providers)
    logger.info("starting in polling mode")
    await dispatcher.start_polling(bot, handle_signals=True)


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
        secrets=[settings.bot_token.get_secret_value(), *operator_secrets(settings)],
    )
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
