"""Iris as `python -m bot` runs it (polling), also answering the benchmark's stats requests."""

from __future__ import annotations

import asyncio

from bench.selfstats import answer_stats
from bot.app import create_application, freeze_heap
from bot.config import load_settings
from bot.logs import setup_logging
from bot.providers import log_secrets


async def run() -> None:
    """Build the application from the environment and poll until stdin closes."""
    settings = load_settings()
    setup_logging(
        settings.log_level,
        log_format=settings.log_format,
        secrets=log_secrets(settings),
    )
    app = await create_application(settings)
    freeze_heap()

    def counters() -> dict[str, int]:
        return {"writes": app.storage.db.writes, "running": app.runner.running}

    stats = asyncio.create_task(answer_stats(counters, on_eof=app.dispatcher.stop_polling))
    try:
        await app.dispatcher.start_polling(app.bot, handle_signals=True)
    finally:
        stats.cancel()


if __name__ == "__main__":
    asyncio.run(run())
