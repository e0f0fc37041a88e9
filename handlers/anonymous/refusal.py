"""The answer to a message sent on behalf of a chat: Iris cannot tell who sent it, and keys,
jobs and limits belong to a person."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.filters import may_carry_key
from bot.telegram import delete_quietly
from handlers.describe.filters import caption_question


def _meant_for(message: Message, username: str) -> bool:
    """A command without a bot's name or with this one's, a mention of it, or a reply to it."""
    text = message.text or message.caption or ""
    words = text.split(maxsplit=1)
    if words and words[0].startswith("/"):
        _command, _at, target = words[0].partition("@")
        return target.lower() in ("", username.lower())
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if author is not None and author.is_bot and author.username == username:
        return True
    return caption_question(text, username=username, private=False) is not None  # a mention


async def anonymous(message: Message, bot: Bot) -> None:
    """Say how to be served when the message is for the bot; ignore it otherwise.

    A /setkey is deleted all the same: it may carry a key for everyone in the group to see.
    """
    if may_carry_key(message):
        await delete_quietly(bot, chat_id=message.chat.id, message_id=message.message_id)
    if _meant_for(message, (await bot.me()).username or ""):
        await message.reply(
            _("I cannot tell who you are when you post anonymously or as a channel. "
              "Post as yourself to use me.")
        )  # fmt: skip
