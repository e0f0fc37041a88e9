"""Filters of chat scope and of who sent what, shared by the features."""

from __future__ import annotations

from collections.abc import Collection

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

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
