"""Errors no handler expected: logged without secrets, the user told briefly."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter

from handlers.unexpected.failures import bad_request, unexpected, user_blocked_bot


def create_router() -> Router:
    """The router of errors raised by any handler; it comes first."""
    router = Router(name="unexpected")
    router.errors.register(user_blocked_bot, ExceptionTypeFilter(TelegramForbiddenError))
    router.errors.register(bad_request, ExceptionTypeFilter(TelegramBadRequest))
    router.errors.register(unexpected)
    return router
