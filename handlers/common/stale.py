"""The one answer to a button that no longer works."""

from __future__ import annotations

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _


async def no_longer_valid(query: CallbackQuery, *, alert: bool = True) -> None:
    """The button's job, image or list is gone, it is someone else's, or its data does not parse
    (tampered, or from an older version): say so, and the button stops spinning."""
    await query.answer(_("This button is no longer valid."), show_alert=alert)
