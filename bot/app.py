"""Builds the aiogram Bot and Dispatcher; long-lived objects go into workflow data."""

from __future__ import annotations

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.config import Settings
from handlers import collect_routers
from services.registry import Providers


def create_bot(settings: Settings) -> Bot:
    """The Bot, talking to the official Bot API or to TELEGRAM_API_URL."""
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_dispatcher(
    *, settings: Settings, http: aiohttp.ClientSession, providers: Providers
) -> Dispatcher:
    """The Dispatcher with every router and the shared objects handlers receive by name."""
    dispatcher = Dispatcher(settings=settings, http=http, providers=providers)
    for router in collect_routers():
        dispatcher.include_router(router)

    async def close_http() -> None:
        await http.close()

    dispatcher.shutdown.register(close_http)
    return dispatcher
