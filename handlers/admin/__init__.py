"""Admin commands; the admins scope router lets only ADMIN_IDS reach them."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command

from handlers.admin.stats import stats


def create_router() -> Router:
    """The admin commands, for the admins scope router."""
    router = Router(name="admin")
    router.message.register(stats, Command("stats"))
    return router
