"""The /settings menus' and /language's buttons."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards import link_keyboard
from handlers.settings.callbacks import LanguageAction, PreferenceAction, PreferenceButton


def _marked(label: str, current: bool) -> str:
    return f"✅ {label}" if current else label


def menu_keyboard(entries: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    """The /settings overview: a button per (label, preference code) that opens its submenu."""
    builder = InlineKeyboardBuilder()
    for label, preference in entries:
        builder.button(
            text=label,
            callback_data=PreferenceAction(action=PreferenceButton.OPEN, preference=preference),
        )
    builder.adjust(1)
    return builder.as_markup()


def choices_keyboard(
    preference: str, choices: Iterable[tuple[str, str]], *, current: str
) -> InlineKeyboardMarkup:
    """A /settings submenu: a button per (label, value), ✅ on the current one, then Back."""
    builder = InlineKeyboardBuilder()
    for label, value in choices:
        builder.button(
            text=_marked(label, value == current),
            callback_data=PreferenceAction(
                action=PreferenceButton.PICK, preference=preference, value=value
            ),
        )
    builder.adjust(2)
    builder.row(
        InlineKeyboardButton(
            text=_("« Back"), callback_data=PreferenceAction(action=PreferenceButton.MENU).pack()
        )
    )
    return builder.as_markup()


def language_keyboard(
    choices: Iterable[tuple[str, str]], *, current: str | None
) -> InlineKeyboardMarkup:
    """/language: a button per (label, language), ✅ on the current one (None: no mark)."""
    builder = InlineKeyboardBuilder()
    for label, language in choices:
        builder.button(
            text=_marked(label, language == current),
            callback_data=LanguageAction(language=language),
        )
    builder.adjust(2)
    return builder.as_markup()


def private_chat_keyboard(url: str) -> InlineKeyboardMarkup:
    """One button that opens the private chat with the bot."""
    return link_keyboard(_("💬 Open private chat"), url)
