"""The button data of /settings and /language."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class PreferenceButton(StrEnum):
    """What a button of the /settings menu does."""

    MENU = "menu"
    OPEN = "open"
    PICK = "pick"


class PreferenceAction(CallbackData, prefix="set"):
    """A button of the /settings menu: back to the overview, open a submenu, or pick a value."""

    action: PreferenceButton
    preference: str = ""
    """A short preference code ("gen", "ar", "style", ...), validated on receipt."""
    value: str = ""
    """The picked value, ":" written as "x" ("16x9"); "-" clears the preference."""


class LanguageAction(CallbackData, prefix="lang"):
    """A button of /language."""

    language: str
    """One of LANGUAGES, or "-" for Telegram's language; validated on receipt."""
