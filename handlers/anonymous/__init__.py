"""Messages sent on behalf of a chat (anonymous group admins, channels): nobody's to serve."""

from __future__ import annotations

from aiogram import Router

from bot.filters import OnBehalfOfAChat
from handlers.anonymous.refusal import anonymous


def create_router() -> Router:
    """Takes every message sent on behalf of a chat, before any feature sees it."""
    router = Router(name="anonymous")
    # An anonymous admin's or a channel's message comes "from" a shared bot account
    # (GroupAnonymousBot, Channel_Bot) or carries sender_chat: nobody's keys or jobs fit it.
    router.message.register(anonymous, OnBehalfOfAChat())
    return router
