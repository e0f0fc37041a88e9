"""Filters that decide whether a message is meant for the bot."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Collection
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
"""File names taken as images even when the sending app declared no image type."""

ALBUMS_REMEMBERED = 1000
"""Albums remembered per process, so the memory stays bounded however many albums arrive."""


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


class AlbumMemo:
    """The albums (media groups) already seen, newest last, at most `capacity` of them."""

    def __init__(self, *, capacity: int = ALBUMS_REMEMBERED) -> None:
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._capacity = capacity

    def first(self, chat_id: int, media_group_id: str) -> bool:
        """True the first time an album is seen in a chat, False for its other photos."""
        key = (chat_id, media_group_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


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


# aiogram runs a magic filter (F...) in a worker thread for every update it is asked about; these
# async filters cost one comparison on the event loop, which matters on routers every update sees.


class InPrivateChat(Filter):
    """A message, or a button press on a message, in a private chat."""

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        return _chat_type(event) == ChatType.PRIVATE


class InGroupChat(Filter):
    """A message, or a button press on a message, anywhere but a private chat."""

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        kind = _chat_type(event)
        return kind is not None and kind != ChatType.PRIVATE


class PlainText(Filter):
    """A text message that is not a command."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and not message.text.startswith("/")


class DataStartsWith(Filter):
    """A button whose data starts with one of these prefixes."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self._prefixes = prefixes

    async def __call__(self, query: CallbackQuery) -> bool:
        return query.data is not None and query.data.startswith(self._prefixes)


class IsReply(Filter):
    """A message that replies to another."""

    async def __call__(self, message: Message) -> bool:
        return message.reply_to_message is not None


def _chat_type(event: Message | CallbackQuery) -> str | None:
    message = event if isinstance(event, Message) else event.message
    return message.chat.type if message is not None else None


class FromUsers(Filter):
    """A message from one of these users."""

    def __init__(self, user_ids: Collection[int]) -> None:
        self._ids = frozenset(user_ids)

    async def __call__(self, message: Message) -> bool:
        return message.from_user is not None and message.from_user.id in self._ids


class OnBehalfOfAChat(Filter):
    """A message sent as a chat (anonymous group admins, channel posts), not by a person."""

    async def __call__(self, message: Message) -> bool:
        sender = message.from_user
        return message.sender_chat is not None or (sender is not None and sender.is_bot)


def may_carry_key(message: Message) -> bool:
    """A /setkey, as text or as a caption: it must be deleted wherever it was sent."""
    return (message.text or message.caption or "").lower().startswith("/setkey")
