"""Worker mode (`python -m bot worker`): runs jobs, takes no updates — for setups where one
process polls Telegram (which allows only one poller) and others share its jobs on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging

from bot.app import Application

logger = logging.getLogger(__name__)


async def serve_worker(app: Application, *, stop: asyncio.Event) -> None:
    """Resume and claim jobs until `stop` is set, then stop them where they are and let go."""
    await app.dispatcher.emit_startup(bot=app.bot)  # the job runner starts claiming
    try:
        logger.info("worker running jobs, taking no updates")
        await stop.wait()
    finally:
        await app.dispatcher.emit_shutdown(bot=app.bot)
        await app.bot.session.close()
