"""The polite refusal of a button no handler takes."""

from __future__ import annotations

import logging

from aiogram.types import CallbackQuery

from handlers.common.stale import no_longer_valid

logger = logging.getLogger(__name__)


async def unknown_button(query: CallbackQuery) -> None:
    """Refuse politely, so the button stops spinning; nothing else happens."""
    # The data itself is not logged: it is whatever a client chose to send.
    logger.info("user %d pressed a button no handler takes", query.from_user.id)
    await no_longer_valid(query, alert=False)
