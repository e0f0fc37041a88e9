"""What the emulator's tests share: users, chats, a loopback aiogram session, images, polling."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from PIL import Image

from playground.telegram import Chat, FakeBotApi, User

ALICE = User(id=1001, first_name="Alice", username="alice_w", language_code="en")
BOB = User(id=1002, first_name="Bob", username="bobby_b", language_code="es-419")
ALICE_CHAT = Chat.private(ALICE)
GROUP = Chat(id=-1001234567890, type="supergroup", title="Painters")
AGAIN = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="🔁 again", callback_data="again")]]
)


class LoopbackSession(AiohttpSession):
    """aiogram's session without its 250 ms wait for TLS connections to close: loopback has none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def image(fmt: str = "PNG", width: int = 64, height: int = 48) -> bytes:
    """Real image bytes made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


@asynccontextmanager
async def polling(bot: Bot, api: FakeBotApi, router: Router) -> AsyncIterator[None]:
    """A Dispatcher long-polling the fake (10 s polls) until the block ends."""
    dp = Dispatcher()
    dp.include_router(router)
    task = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=10, handle_signals=False, close_bot_session=False)
    )
    try:
        await asyncio.wait_for(api.polled.wait(), 5)
        yield
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)
