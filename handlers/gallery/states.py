"""The gallery's FSM: the rename step, and what it remembers while waiting for the name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.fsm.state import State, StatesGroup

from handlers.gallery.callbacks import GalleryAction

RENAME_DATA = "gallery_rename"
"""The FSM data key of the pending rename."""


class GalleryStates(StatesGroup):
    """Steps of the /gallery conversation."""

    rename = State()
    """✏️ was pressed: the user's next plain text in the chat is the image's new name."""


@dataclass(frozen=True, slots=True)
class PendingRename:
    """A rename waiting for the user's next message: which card, and the prompt asking for it."""

    card: GalleryAction
    card_id: int
    prompt_id: int

    def to_data(self) -> dict[str, Any]:
        """The FSM data form (JSON-safe)."""
        return {"card": self.card.pack(), "card_id": self.card_id, "prompt_id": self.prompt_id}

    @classmethod
    def from_data(cls, value: Any) -> PendingRename | None:
        """The pending rename in FSM data, or None."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                GalleryAction.unpack(value["card"]), int(value["card_id"]), int(value["prompt_id"])
            )
        except (KeyError, TypeError, ValueError):
            return None
