"""The /keys list's buttons."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.providers import PROVIDERS
from handlers.keys.callbacks import KeyAction, KeyButton


def keys_keyboard(masked: Mapping[str, str]) -> InlineKeyboardMarkup:
    """Per provider: remove the stored key, or add one."""
    builder = InlineKeyboardBuilder()
    for provider in PROVIDERS:
        if provider.id in masked:
            text = _("🗑 Remove {provider} key").format(provider=provider.display_name)
            action = KeyButton.DELETE
        else:
            text = _("➕ Add {provider} key").format(provider=provider.display_name)
            action = KeyButton.ADD
        builder.button(text=text, callback_data=KeyAction(action=action, provider=provider.id))
    builder.adjust(1)
    return builder.as_markup()
