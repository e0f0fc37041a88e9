"""Every FSM state group of the bot's multi-step conversations."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class GalleryStates(StatesGroup):
    """Steps of the /gallery conversation."""

    rename = State()
    """✏️ was pressed: the user's next plain text in the chat is the image's new name."""
