"""Inline keyboards, built with aiogram's keyboard builder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import JobAction, JobButton, KeyAction, KeyButton
from bot.providers import display_name


def cancel_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """The Cancel button under a job's status message."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✖️ Cancel"), callback_data=JobAction(action=JobButton.CANCEL, job_id=job_id)
    )
    return builder.as_markup()


def result_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """🔁 again and 📎 original file under a generated image."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔁 Again"), callback_data=JobAction(action=JobButton.AGAIN, job_id=job_id)
    )
    builder.button(
        text=_("📎 Original file"),
        callback_data=JobAction(action=JobButton.ORIGINAL, job_id=job_id),
    )
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


def keys_keyboard(providers: Iterable[str], masked: Mapping[str, str]) -> InlineKeyboardMarkup:
    """Per provider: remove the stored key, or add one."""
    builder = InlineKeyboardBuilder()
    for provider in providers:
        name = display_name(provider)
        if provider in masked:
            text = _("🗑 Remove {provider} key").format(provider=name)
            action = KeyButton.DELETE
        else:
            text = _("➕ Add {provider} key").format(provider=name)
            action = KeyButton.ADD
        builder.button(text=text, callback_data=KeyAction(action=action, provider=provider))
    builder.adjust(1)
    return builder.as_markup()


def deep_link_keyboard(url: str) -> InlineKeyboardMarkup:
    """One button that opens the private chat with the bot on key setup."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔑 Set up keys in private chat"), url=url)
    return builder.as_markup()
