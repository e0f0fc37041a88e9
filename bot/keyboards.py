"""Link buttons: a keyboard of one button that opens a URL (a deep link into the bot)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


def link_keyboard(text: str, url: str) -> InlineKeyboardMarkup:
    """One button that opens `url`."""
    builder = InlineKeyboardBuilder()
    builder.button(text=text, url=url)
    return builder.as_markup()


def deep_link_keyboard(url: str) -> InlineKeyboardMarkup:
    """One button that opens the private chat with the bot on key setup."""
    return link_keyboard(_("🔑 Set up keys in private chat"), url)
