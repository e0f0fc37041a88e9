"""The buttons on a job's messages: their data, and the keyboards the Notifier sends."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.storage.jobs import JobRecord
from services.gptunnel import ASPECT_RATIOS


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


def cancel_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """The Cancel button under a job's status message."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✖️ Cancel"), callback_data=JobAction(action=JobButton.CANCEL, job_id=job_id)
    )
    return builder.as_markup()


def result_keyboard(job: JobRecord, *, favorite: bool = False) -> InlineKeyboardMarkup:
    """Under a generated image: 🔁 again, 📎 original, ⭐ for AiLuna, other ratios for GPTunnel."""
    return _result_buttons(job, favorite=favorite, inline=False)


def inline_result_keyboard(job: JobRecord) -> InlineKeyboardMarkup:
    """Under an image in an inline message: 🔁 again and other ratios, shown in place. 📎 and ⭐
    need a message in a chat the bot is in (the copy in the private chat has them)."""
    return _result_buttons(job, favorite=False, inline=True)


def _result_buttons(job: JobRecord, *, favorite: bool, inline: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔁 Again"), callback_data=JobAction(action=JobButton.AGAIN, job_id=job.id)
    )
    sizes = [1]
    if not inline:
        builder.button(
            text=_("📎 Original file"),
            callback_data=JobAction(action=JobButton.ORIGINAL, job_id=job.id),
        )
        sizes = [2]
    if job.remote_id is not None and not inline:
        builder.button(
            text=_("★ In favorites") if favorite else _("⭐ Add to favorites"),
            callback_data=JobAction(
                action=JobButton.FAVORITE, job_id=job.id, value=str(int(favorite))
            ),
        )
        sizes.append(1)
    ratio = job.options.get("ar")
    if ratio is not None:
        others = [r for r in ASPECT_RATIOS if r != ratio]
        for other in others:
            builder.button(
                text=other,
                callback_data=JobAction(
                    action=JobButton.RATIO, job_id=job.id, value=other.replace(":", "x")
                ),
            )
        sizes += [len(others) // 2, len(others) - len(others) // 2]
    builder.adjust(*sizes)
    return builder.as_markup()


def retry_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """The Retry button of an interrupted job."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔁 Retry"), callback_data=JobAction(action=JobButton.RETRY, job_id=job_id)
    )
    return builder.as_markup()


def tasks_keyboard(job_ids: Iterable[int]) -> InlineKeyboardMarkup:
    """One Cancel button per unfinished job of /tasks."""
    builder = InlineKeyboardBuilder()
    for job_id in job_ids:
        builder.button(
            text=_("✖️ Cancel #{job_id}").format(job_id=job_id),
            callback_data=JobAction(action=JobButton.CANCEL, job_id=job_id),
        )
    builder.adjust(1)
    return builder.as_markup()
