"""Filters that decide whether a message is meant for the bot."""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Message


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


def is_image_document(message: Message) -> bool:
    """A document whose declared type is an image (the bytes are checked later)."""
    document = message.document
    return document is not None and (document.mime_type or "").startswith("image/")


async def addressed_question(message: Message, bot: Bot) -> str | None:
    """The caption minus the bot's command and mention; None in a group if it is not for the bot."""
    caption = message.caption or ""
    username = (await bot.me()).username or ""
    command = re.compile(rf"^/describe(?:@{re.escape(username)})?(?=\s|$)", re.IGNORECASE)
    mention = re.compile(rf"@{re.escape(username)}\b", re.IGNORECASE)
    addressed = bool(command.match(caption) or (username and mention.search(caption)))
    if message.chat.type != ChatType.PRIVATE and not addressed:
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
