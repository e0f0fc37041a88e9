"""The inline results: "Generate" per provider, shared recent images, option mistakes."""

from __future__ import annotations

import html

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InputTextMessageContent,
)

from bot.jobs.buttons import InlineStart
from bot.jobs.notifier import caption
from bot.storage.jobs import JobRecord
from handlers.inline.pending import InlineRequest
from handlers.inline.texts import (
    generate_title,
    mistake_title,
    options_line,
    ready_text,
    start_button,
)


def start_keyboard(token: str) -> InlineKeyboardMarkup:
    """▶️ under a posted request: the keyboard that also gives the message its inline id."""
    button = InlineKeyboardButton(
        text=start_button(), callback_data=InlineStart(token=token).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def generate_result(request: InlineRequest, token: str) -> InlineQueryResultArticle:
    """Posts the prompt with ▶️; the job starts once chosen (feedback) or pressed."""
    return InlineQueryResultArticle(
        id=f"g:{token}",
        title=generate_title(request.provider),
        description=f"{request.prompt}\n{options_line(request.provider, request.options)}",
        input_message_content=InputTextMessageContent(
            message_text=ready_text(request.prompt, request.provider, request.options)
        ),
        reply_markup=start_keyboard(token),
    )


def shared_result(job: JobRecord) -> InlineQueryResultCachedPhoto:
    """A recent image, sent by its Telegram file id: no upload, no provider call."""
    assert job.result_file_id is not None
    return InlineQueryResultCachedPhoto(
        id=f"img:{job.id}", photo_file_id=job.result_file_id, caption=caption(job)
    )


def mistake_result(index: int, explanation: str, prompt: str) -> InlineQueryResultArticle:
    """Explains an option mistake; if chosen anyway, it posts only the user's own words."""
    return InlineQueryResultArticle(
        id=f"err:{index}",
        title=mistake_title(),
        description=html.unescape(explanation),
        input_message_content=InputTextMessageContent(message_text=prompt or "…", parse_mode=None),
    )
