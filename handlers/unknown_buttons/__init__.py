"""Buttons no other handler took: tampered, from another chat, or from an older version."""

from __future__ import annotations

from aiogram import Router

from handlers.unknown_buttons.refusal import unknown_button


def create_router() -> Router:
    """The catch-all for buttons; it must come after every router that handles buttons."""
    router = Router(name="unknown_buttons")
    router.callback_query.register(unknown_button)
    return router
