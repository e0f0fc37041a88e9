"""An error no handler expected: a log line without secrets, a brief word to the user."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ErrorEvent, User
from aiogram.utils.i18n import gettext as _

from bot.logs import origin
from bot.storage import Storage
from bot.telegram import is_not_modified

logger = logging.getLogger(__name__)


async def user_blocked_bot(
    event: ErrorEvent, storage: Storage, event_from_user: User | None = None
) -> None:
    """The user blocked the bot: stop writing to them until they come back."""
    if event_from_user is not None:
        await storage.users.set_active(event_from_user.id, active=False)
        logger.info("user %d blocked the bot; marked inactive", event_from_user.id)


async def bad_request(event: ErrorEvent) -> None:
    """An edit that changed nothing is fine; anything else is a bug worth a log line."""
    assert isinstance(event.exception, TelegramBadRequest)
    if not is_not_modified(event.exception):
        logger.error(
            "update %d: Telegram refused a call: %s",
            event.update.update_id,
            event.exception.message,
        )


async def unexpected(event: ErrorEvent) -> None:
    """Log the failure (type and place, no secrets) and tell the user something went wrong."""
    logger.error("update %d failed: %s", event.update.update_id, origin(event.exception))
    if event.update.callback_query is not None:
        await event.update.callback_query.answer(_("Something went wrong. Please try again."))
    elif event.update.message is not None:
        await event.update.message.answer(_("Something went wrong. Please try again."))
