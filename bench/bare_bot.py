"""The ceiling for update handling: an aiogram bot that only answers each message (no storage)."""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bench.selfstats import answer_stats


async def reply(message: Message) -> None:
    """Answer every message with one short text."""
    await message.answer("ok")


def _no_counters() -> dict[str, int]:
    return {}


async def run() -> None:
    """Poll TELEGRAM_API_URL with BOT_TOKEN until stdin closes."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(reply)
    stats = asyncio.create_task(answer_stats(_no_counters, on_eof=dispatcher.stop_polling))
    try:
        await dispatcher.start_polling(bot, handle_signals=True)
    finally:
        stats.cancel()


if __name__ == "__main__":
    asyncio.run(run())
