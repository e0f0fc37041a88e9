"""Iris as `python -m bot` runs it (polling, or webhook mode when WEBHOOK_URL is set), also
answering the benchmark's stats requests."""

from __future__ import annotations

import asyncio
import os

from bench.config import UNPACED
from bench.selfstats import answer_stats
from bot.app import create_application, freeze_heap
from bot.background import cancel_and_wait
from bot.config import load_settings
from bot.logs import setup_logging
from bot.outbox import Pacing
from bot.providers import log_secrets
from bot.webhook import serve_webhook

BEYOND_ANY_LOAD = 1_000_000
"""Calls per second and per chat burst for an unpaced outbox: the benchmark never comes near."""


async def run() -> None:
    """Build the application from the environment and take updates until stdin closes."""
    settings = load_settings()
    setup_logging(
        settings.log_level,
        log_format=settings.log_format,
        secrets=log_secrets(settings),
    )
    unpaced = Pacing(
        rate=BEYOND_ANY_LOAD, private=(BEYOND_ANY_LOAD, 1.0), group=(BEYOND_ANY_LOAD, 1.0)
    )
    app = await create_application(settings, pacing=unpaced if os.environ.get(UNPACED) else None)
    freeze_heap()

    def counters() -> dict[str, int]:
        return {"writes": app.storage.db.writes, "running": app.runner.running}

    stop = asyncio.Event()

    async def stop_webhook() -> None:
        stop.set()

    if settings.webhook_url:
        updates = serve_webhook(app, settings, stop=stop)
        stats = asyncio.create_task(answer_stats(counters, on_eof=stop_webhook))
    else:
        updates = app.dispatcher.start_polling(app.bot, handle_signals=True)
        stats = asyncio.create_task(answer_stats(counters, on_eof=app.dispatcher.stop_polling))
    try:
        await updates
    finally:
        await cancel_and_wait(stats)


if __name__ == "__main__":
    asyncio.run(run())
