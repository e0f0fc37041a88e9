"""Telegram calls that tolerate what Telegram does: outages, vanished messages, blocks."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InlineKeyboardMarkup, Message

logger = logging.getLogger(__name__)


class PatientRequests(BaseRequestMiddleware):
    """Retries Telegram's 5xx and network errors (flood waits are the outbox's to sit out)."""

    def __init__(self, *, attempts: int = 4, base_delay: float = 0.5) -> None:
        self._attempts = attempts
        self._base_delay = base_delay
        self.last_ok: float | None = None
        """time.monotonic() of the last call Telegram answered, for the health check."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ == "getUpdates":
            # aiogram's polling loop has its own backoff.
            return await self._noted(make_request(bot, method))
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            try:
                return await self._noted(make_request(bot, method))
            except (TelegramServerError, TelegramNetworkError) as e:
                if last:
                    raise
                delay = self._base_delay * 2**attempt * random.uniform(1, 1.5)  # noqa: S311
                logger.warning("%s failed (%s); retrying", method.__api_method__, type(e).__name__)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _noted(self, call: Awaitable[Response[TelegramType]]) -> Response[TelegramType]:
        response = await call
        self.last_ok = time.monotonic()
        return response


class ResponseModels(BaseRequestMiddleware):
    """Keeps aiogram's `Response[T]` models alive, so pydantic does not build them again.

    aiogram asks for `Response[method.__returning__]` on every call, and pydantic caches such
    models weakly: under load the garbage collector drops them between calls and each call
    builds its model anew (about a millisecond of CPU per Bot API call, measured by the bench).
    """

    def __init__(self) -> None:
        self._models: dict[object, object] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._models:
            self._models[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)


def topic_of(message: Message) -> int | None:
    """The forum topic a message was sent in; None outside forums (and in General)."""
    return message.message_thread_id if message.is_topic_message else None


def is_not_modified(error: TelegramBadRequest) -> bool:
    """The edit changed nothing: harmless."""
    return "message is not modified" in error.message


def is_message_gone(error: TelegramBadRequest) -> bool:
    """The message was deleted (by the user or an admin) or can no longer be edited."""
    text = error.message.lower()
    return any(
        marker in text
        for marker in (
            "message to edit not found",
            "message to delete not found",
            "message can't be edited",
            "message can't be deleted",
            "message_id_invalid",
        )
    )


async def edit_text(
    bot: Bot,
    *,
    chat_id: int,
    message_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit a message's text; False when the message is gone, True otherwise."""
    return await _tolerant(
        bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=text, reply_markup=reply_markup
        )
    )


async def edit_caption(
    bot: Bot,
    *,
    chat_id: int,
    message_id: int,
    caption: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit a photo's caption; False when the message is gone, True otherwise."""
    return await _tolerant(
        bot.edit_message_caption(
            chat_id=chat_id, message_id=message_id, caption=caption, reply_markup=reply_markup
        )
    )


async def edit_markup(
    bot: Bot, *, chat_id: int, message_id: int, reply_markup: InlineKeyboardMarkup | None
) -> bool:
    """Replace a message's buttons; False when the message is gone, True otherwise."""
    return await _tolerant(
        bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
        )
    )


async def edit_inline(
    bot: Bot,
    *,
    inline_message_id: str,
    text: str | None = None,
    caption: str | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Edit an inline message's text (or, given `caption`, its caption); False when gone."""
    if caption is not None:
        return await _tolerant(
            bot.edit_message_caption(
                inline_message_id=inline_message_id, caption=caption, reply_markup=markup
            )
        )
    assert text is not None
    return await _tolerant(
        bot.edit_message_text(inline_message_id=inline_message_id, text=text, reply_markup=markup)
    )


async def _tolerant(edit: Awaitable[object]) -> bool:
    """Run an edit: "not modified" is success, a vanished message is False, the rest raises."""
    try:
        await edit
    except TelegramBadRequest as e:
        if is_not_modified(e):
            return True
        if is_message_gone(e):
            return False
        raise
    return True


async def delete_quietly(bot: Bot, *, chat_id: int, message_id: int) -> bool:
    """Delete a message if possible; False when it could not be deleted."""
    try:
        return await bot.delete_message(chat_id=chat_id, message_id=message_id)
    except TelegramBadRequest as e:
        logger.debug("could not delete message %d: %s", message_id, e.message)
        return False
