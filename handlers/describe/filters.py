"""Filters that decide whether a message asks for a description, and the caption's question."""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Message

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
"""File names taken as images even when the sending app declared no image type."""


class ImageToDescribe(Filter):
    """A photo or image file meant for the bot; passes the caption's question as `question`.

    Private chats: every one. Groups: only when the caption starts with /describe or mentions
    the bot, since the bot must never answer every photo in a group.
    """

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        if not (message.photo or is_image_document(message)):
            return False
        question = await addressed_question(message, bot)
        return False if question is None else {"question": question}


class OtherFileForBot(Filter):
    """A document that is not an image, sent to the bot the way an image to describe would be."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        if message.document is None or is_image_document(message):
            return False
        return await addressed_question(message, bot) is not None


class OncePerAlbum(Filter):
    """Lets through a message outside albums, or the first of an album; passes `album`.

    Telegram sends each photo of an album as its own message; describing each would be ten paid
    calls for one send, so only the first goes on (its caption, if the album has one, is on the
    first photo). Which one is first is decided by AlbumOrderMiddleware as updates arrive:
    by the time they reach a router, their awaits have shuffled them.
    """

    async def __call__(
        self, message: Message, album_first: bool | None = None
    ) -> bool | dict[str, Any]:
        if message.media_group_id is None:
            return {"album": False}
        return {"album": True} if album_first else False


def is_image_document(message: Message) -> bool:
    """A document declared an image by its type or its name (the bytes are checked later)."""
    document = message.document
    if document is None:
        return False
    name = (document.file_name or "").lower()
    return (document.mime_type or "").startswith("image/") or name.endswith(IMAGE_EXTENSIONS)


async def addressed_question(message: Message, bot: Bot) -> str | None:
    """The caption minus the bot's command and mention; None in a group if it is not for the bot."""
    return caption_question(
        message.caption or "",
        username=(await bot.me()).username or "",
        private=message.chat.type == ChatType.PRIVATE,
    )


def caption_question(caption: str, *, username: str, private: bool) -> str | None:
    """The question in a caption, without /describe and @username; None in a group if the
    caption neither starts with /describe nor mentions the bot."""
    command = re.compile(rf"^/describe(?:@{re.escape(username)})?(?=\s|$)", re.IGNORECASE)
    mention = re.compile(rf"@{re.escape(username)}\b", re.IGNORECASE)
    addressed = bool(command.match(caption) or (username and mention.search(caption)))
    if not private and not addressed:
        return None
    question = command.sub("", caption, count=1)
    if username:
        question = mention.sub(" ", question)
    return " ".join(question.split())


class ReplyToBot(Filter):
    """A message that replies to one of the bot's own messages."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        replied = message.reply_to_message
        return (
            replied is not None and replied.from_user is not None and replied.from_user.id == bot.id
        )


class IsReply(Filter):
    """A message that replies to another."""

    async def __call__(self, message: Message) -> bool:
        return message.reply_to_message is not None
