"""Inline mode: `@bot prompt` in any chat offers to generate it and shares recent images."""

from __future__ import annotations

from aiogram import Router

from bot.jobs.buttons import InlineStart
from handlers.inline.query import answer_query
from handlers.inline.starting import chosen, pressed


def create_router() -> Router:
    """Inline queries, chosen results and ▶️ presses; the pending requests they share reach
    them as the workflow data `pending` (bot/app.py)."""
    router = Router(name="inline")
    router.inline_query.register(answer_query)
    router.chosen_inline_result.register(chosen)
    router.callback_query.register(pressed, InlineStart.filter())
    return router
