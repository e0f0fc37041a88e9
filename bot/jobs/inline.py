"""Inline messages: a job shown in one message in any chat, edited by its inline_message_id.

The bot may not be in that chat, so a result cannot be uploaded into it: the photo is uploaded
once to the user's private chat with the bot (or, for users who never opened one, to
STORAGE_CHAT_ID), and the inline message's media is then edited to that file id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, InputMediaPhoto
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from bot.formatting import CAPTION_LIMIT, escape, shorten
from bot.keyboards import link_keyboard
from bot.storage.jobs import JobRecord
from bot.telegram import edit_inline

logger = logging.getLogger(__name__)

INLINE_SHOWN = 0
"""The message id told for an inline message, which has none in any chat."""
INLINE_DEEP_LINK = "inline"
"""The /start parameter of the link that opens the private chat from an inline message."""
_NO_TEXT = "there is no text in the message to edit"


@dataclass(frozen=True, slots=True)
class SentImage:
    """A delivered result photo: the message that carries it and its Telegram file id."""

    message_id: int | None
    file_id: str | None


def framed(job: JobRecord, text: str) -> str:
    """An inline message's text: the prompt first, as everyone in its chat sees the request
    only there."""
    return f"🎨 <i>{shorten(escape(job.prompt), 300)}</i>\n\n{text}"


class InlineMessages:
    """Edits inline messages and delivers results into them."""

    def __init__(self, *, bot: Bot, storage_chat_id: int | None) -> None:
        self._bot = bot
        self._storage_chat_id = storage_chat_id

    async def edit(
        self, inline_message_id: str, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Show `text` as the message's text, or as its caption once it is a photo; False when
        the message is gone."""
        try:
            return await edit_inline(
                self._bot, inline_message_id=inline_message_id, text=text, markup=reply_markup
            )
        except TelegramBadRequest as e:
            if _NO_TEXT not in e.message:
                raise
        return await edit_inline(
            self._bot,
            inline_message_id=inline_message_id,
            caption=shorten(text, CAPTION_LIMIT),
            markup=reply_markup,
        )

    async def show_photo(
        self,
        job: JobRecord,
        photo: BufferedInputFile,
        *,
        caption: str,
        reply_markup: InlineKeyboardMarkup,
    ) -> SentImage:
        """Upload the photo where the bot may, then make the inline message show it."""
        assert job.inline_message_id is not None
        for chat_id in (job.user_id, self._storage_chat_id):
            if chat_id is None:
                continue
            try:
                message = await self._bot.send_photo(chat_id=chat_id, photo=photo, caption=caption)
            except (TelegramForbiddenError, TelegramBadRequest) as e:
                if isinstance(e, TelegramBadRequest) and "chat not found" not in e.message:
                    raise
                logger.info("no upload to the %s chat: %s", _which(chat_id, job), e.message)
                continue
            assert message.photo is not None
            file_id = message.photo[-1].file_id
            await self._bot.edit_message_media(
                inline_message_id=job.inline_message_id,
                media=InputMediaPhoto(media=file_id, caption=caption),
                reply_markup=reply_markup,
            )
            return SentImage(message.message_id, file_id)
        await self.say_no_place(job.inline_message_id)
        return SentImage(None, None)

    async def say_no_place(
        self, inline_message_id: str, extra: InlineKeyboardMarkup | None = None
    ) -> None:
        """The image has nowhere to be uploaded: the user is asked to open the private chat."""
        link = await create_start_link(self._bot, INLINE_DEEP_LINK)
        keyboard = link_keyboard(_("💬 Open a chat with me"), link)
        if extra is not None:
            keyboard.inline_keyboard.extend(extra.inline_keyboard)
        await self.edit(inline_message_id, no_place_text(), keyboard)


def no_place_text() -> str:
    """Why an inline message cannot show its image yet."""
    return _(
        "To show an image here I have to upload it to our private chat first, and you have "
        "not opened one with me yet. Open it (the button below), then try again."
    )


def _which(chat_id: int, job: JobRecord) -> str:
    return "user's private" if chat_id == job.user_id else "storage"
