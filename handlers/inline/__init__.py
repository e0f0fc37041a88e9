"""Inline mode: `@bot prompt` in any chat offers to generate it and shares recent images."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import TelegramObject

from bot.jobs.buttons import InlineStart
from handlers.inline.pending import PendingRequests
from handlers.inline.query import answer_query
from handlers.inline.starting import chosen, pressed


class _Pending(BaseMiddleware):
    """Hands the router's pending requests to its handlers as `pending`."""

    def __init__(self, pending: PendingRequests) -> None:
        self._pending = pending

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["pending"] = self._pending
        return await handler(event, data)


def create_router() -> Router:
    """Inline queries, chosen results and ▶️ presses, sharing one set of pending requests."""
    router = Router(name="inline")
    given = _Pending(PendingRequests())
    for observer in (router.inline_query, router.chosen_inline_result, router.callback_query):
        observer.middleware(given)
    router.inline_query.register(answer_query)
    router.chosen_inline_result.register(chosen)
    router.callback_query.register(pressed, InlineStart.filter())
    return router
