"""A call waiting in the outbox, and everyone waiting for its answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.outbox.rules import Priority

Call = Callable[[], Awaitable[Response[Any]]]


@dataclass(eq=False, slots=True)
class Entry:
    """One call waiting for budget, and everyone waiting for its answer."""

    priority: Priority
    seq: int
    chat: int | str | None
    message: tuple[object, ...] | None
    """The message an edit changes, for coalescing; None for sends."""
    cost: int
    call: Call
    method: TelegramMethod[Any]
    waiters: list[asyncio.Future[Response[Any]]] = field(default_factory=list)
    expires: float | None = None
    """Loop time after which the call is not worth sending any more."""
    queued: bool = True
    """Waiting in its scope's heap (and counted in `waiting`); False once taken out."""

    @property
    def scope(self) -> object:
        """What keeps calls in order: the chat, or the inline message."""
        return self.chat if self.chat is not None else self.message

    def wanted(self) -> bool:
        """Someone still waits for the answer (callers that were cancelled do not)."""
        return any(not waiter.done() for waiter in self.waiters)

    def settle(self, result: Response[Any] | BaseException) -> None:
        """Hand the answer, or the failure, to everyone still waiting for it."""
        for waiter in self.waiters:
            if waiter.done():
                continue
            if isinstance(result, asyncio.CancelledError):
                waiter.cancel()
            elif isinstance(result, BaseException):
                waiter.set_exception(result)
            else:
                waiter.set_result(result)


def bind(
    make_request: NextRequestMiddlewareType[TelegramType],
    bot: Bot,
    method: TelegramMethod[TelegramType],
) -> Call:
    """The call as the outbox makes it later: the rest of the session's middlewares."""
    return lambda: make_request(bot, method)
