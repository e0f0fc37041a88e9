"""Webhook mode: Telegram POSTs updates to WEBHOOK_URL; requests without the secret are refused."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from urllib.parse import urlsplit

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import Application
from bot.config import Settings

logger = logging.getLogger(__name__)


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, else one derived from the bot token: stable, and never unprotected."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    token = settings.bot_token.get_secret_value().encode()
    return hashlib.sha256(b"iris-webhook\0" + token).hexdigest()


async def serve_webhook(app: Application, settings: Settings, *, stop: asyncio.Event) -> None:
    """Register the webhook, serve it on WEBHOOK_HOST:WEBHOOK_PORT until `stop` is set."""
    assert settings.webhook_url is not None
    secret = webhook_secret(settings)
    path = urlsplit(settings.webhook_url).path or "/"
    web_app = web.Application()
    SimpleRequestHandler(dispatcher=app.dispatcher, bot=app.bot, secret_token=secret).register(
        web_app, path=path
    )
    setup_application(web_app, app.dispatcher, bot=app.bot)

    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()  # the dispatcher's startup hooks: jobs resume
    try:
        await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        # Registered once listening, since Telegram starts sending at once.
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
        logger.info("webhook on %s:%d%s", settings.webhook_host, settings.webhook_port, path)
        await stop.wait()
    finally:
        # Shutdown hooks run here: jobs stop where they are, sessions and the database close.
        await runner.cleanup()
