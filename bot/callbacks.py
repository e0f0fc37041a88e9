"""CallbackData of the buttons on job messages, /keys, /settings and /language."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field


class JobButton(StrEnum):
    """What a button on a job's message does."""

    CANCEL = "cancel"
    AGAIN = "again"
    ORIGINAL = "orig"
    RETRY = "retry"
    FAVORITE = "fav"
    RATIO = "ratio"


JOB_ID_MAX = 2**63 - 1
"""The largest id SQLite stores: a tampered button with a larger one never reaches a query."""
JOB_VALUE = r"^[0-9x]{0,8}$"
"""What a job button may carry: a ratio ("16x9") or a flag ("1"); anything else is tampering."""


class JobAction(CallbackData, prefix="job"):
    """A button on a status or result message, bound to one job."""

    action: JobButton
    job_id: Annotated[int, Field(ge=1, le=JOB_ID_MAX)]
    value: Annotated[str, Field(pattern=JOB_VALUE)] = ""
    """What the button carries besides the job: an aspect ratio as "16x9" (":" is reserved)."""


INLINE_REQUEST = r"^[A-Za-z0-9_-]{16}$"
"""The short token a ▶️ button carries: the prompt itself would not fit in 64 bytes."""


class InlineStart(CallbackData, prefix="inl"):
    """▶️ on an inline message: start the generation request the token stands for."""

    token: Annotated[str, Field(pattern=INLINE_REQUEST)]
