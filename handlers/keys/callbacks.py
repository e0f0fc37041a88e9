"""The button data of the /keys list."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class KeyButton(StrEnum):
    """What a button of the /keys list does."""

    ADD = "add"
    DELETE = "del"


class KeyAction(CallbackData, prefix="key"):
    """A button of the /keys list, bound to one provider."""

    action: KeyButton
    provider: str
