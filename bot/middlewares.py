"""Outer middlewares: who the user is, before any handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.storage.users import Users


class UserRecordMiddleware(BaseMiddleware):
    """Loads (or creates) the sender's user record and passes it on as `user_record`."""

    def __init__(self, users: Users) -> None:
        self._users = users

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot:
            data["user_record"] = await self._users.touch(
                user.id, telegram_language=user.language_code
            )
        return await handler(event, data)
