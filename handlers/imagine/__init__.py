"""/imagine: generate an image from a prompt with Midjourney-style options."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command

from handlers.imagine.command import imagine


def create_router() -> Router:
    """The imagine router: /imagine in any chat."""
    router = Router(name="imagine")
    router.message.register(imagine, Command("imagine"))
    return router
