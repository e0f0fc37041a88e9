"""Buttons no other handler took: tampered, from another chat, or from an older version."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

logger = logging.getLogger(__name__)


async def unknown_button(query: CallbackQuery) -> None:
    """Refuse politely, so the button stops spinning; nothing else happens."""
    # The data itself is not logged: it is whatever a client chose to send.
    logger.info("user %d pressed a button no handler takes", query.from_user.id)
    await query.answer(_("This button is no longer valid."))


def create_router() -> Router:
    """The catch-all for buttons; it must come after every router that handles buttons."""
    router = Router(name="unknown_buttons")
    router.callback_query.register(unknown_button)
    return router
