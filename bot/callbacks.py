"""Every CallbackData factory of the bot's inline buttons."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class JobButton(StrEnum):
    """What a button on a job's message does."""

    CANCEL = "cancel"
    AGAIN = "again"
    ORIGINAL = "orig"
    RETRY = "retry"
    FAVORITE = "fav"
    RATIO = "ratio"


class JobAction(CallbackData, prefix="job"):
    """A button on a status or result message, bound to one job."""

    action: JobButton
    job_id: int
    value: str = ""
    """What the button carries besides the job: an aspect ratio as "16x9" (":" is reserved)."""


class KeyButton(StrEnum):
    """What a button of the /keys list does."""

    ADD = "add"
    DELETE = "del"


class KeyAction(CallbackData, prefix="key"):
    """A button of the /keys list, bound to one provider."""

    action: KeyButton
    provider: str
