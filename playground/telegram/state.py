"""The emulated Telegram's state: chats, users, members, messages, topics, files, updates."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import replace
from typing import Any

from playground.telegram.errors import ApiError, bad
from playground.telegram.files import FileStore
from playground.telegram.inline import InlineAnswer, InlineQuery
from playground.telegram.journal import Journal
from playground.telegram.model import (
    BOT_ID,
    CallbackAnswer,
    Chat,
    MemberStatus,
    Message,
    Topic,
    User,
)
from playground.telegram.pictures import PictureDecoder
from playground.telegram.wire import Params


class State:
    """Everything one bot's Telegram knows; the methods and the player both change it."""

    def __init__(self, decode_picture: PictureDecoder) -> None:
        self.journal = Journal()
        self.files = FileStore(decode_picture)
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.members: dict[tuple[int, int], MemberStatus] = {}
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], Message] = {}
        self.topics: dict[tuple[int, int], Topic] = {}
        self.pending: list[dict[str, Any]] = []
        """Updates not yet confirmed by getUpdates, oldest first (a test may alter one)."""
        self.actions: dict[int, list[str]] = {}
        self.commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self.open_queries: set[str] = set()
        self.answers: dict[str, CallbackAnswer] = {}
        self.inline_mode = False
        """getMe's supports_inline_queries: /setinline in @BotFather (off by default)."""
        self.inline_feedback = False
        """chosen_inline_result updates: /setinlinefeedback in @BotFather (off by default)."""
        self.inline_queries: dict[str, InlineQuery] = {}
        """Inline queries not answered yet, by id."""
        self.inline_answers: dict[str, InlineAnswer] = {}
        """What answerInlineQuery said, by query id."""
        self.inline_messages: dict[str, tuple[int, int]] = {}
        """Inline messages (with a keyboard) by inline_message_id: their chat and message id."""
        self.outside: set[int] = set()
        """Chats the bot is not in: users may use its inline mode there, it cannot send."""
        self.webhook: str | None = None
        """The URL setWebhook registered, if any: pending updates are delivered to it."""
        self.webhook_secret: str | None = None
        """The secret_token setWebhook gave, sent with every delivery."""
        self.webhook_error: tuple[int, str] | None = None
        """When and why the last delivery failed, as getWebhookInfo reports it."""
        self.polled = asyncio.Event()
        """Set when a getUpdates call starts waiting."""
        self.closing = False
        self.poll_generation = 0
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1_000_000_001)
        self._group_ids = itertools.count(1)

    def enter(self, user: User, chat: Chat) -> None:
        """The user (or the bot) is in the chat from now on."""
        if chat.type == "private" and user.id not in (chat.id, BOT_ID):
            raise ValueError(f"user {user.id} is not the user of private chat {chat.id}")
        if user.id != BOT_ID:
            self.users[user.id] = user
        self.chats[chat.id] = chat
        if chat.type != "private":
            self.members.setdefault((chat.id, user.id), "member")

    def store(self, message: Message) -> Message:
        """Keep a message, replacing an earlier record of it."""
        self.messages[(message.chat_id, message.message_id)] = message
        return message

    def new_message(self, chat: Chat, from_id: int, **content: Any) -> Message:
        """A new message in the chat, with the next message id."""
        return self.store(
            Message(
                message_id=next(self._message_ids),
                chat_id=chat.id,
                from_id=from_id,
                date=int(time.time()),
                **content,
            )
        )

    def live(self, chat_id: int, message_id: int) -> Message | None:
        """The message if it exists and is not deleted."""
        message = self.messages.get((chat_id, message_id))
        return None if message is None or message.deleted else message

    def enqueue(self, payload: dict[str, Any]) -> None:
        """An update for the bot, with the next update id."""
        self.pending.append({"update_id": next(self._update_ids), **payload})
        self.journal.changed()

    def next_query_id(self) -> str:
        """A fresh callback query id."""
        return str(next(self._query_ids))

    def next_media_group_id(self) -> str:
        """A fresh media group id."""
        return str(13_000_000_000 + next(self._group_ids))

    def open_topic(self, chat: Chat, opener: User, name: str) -> Message:
        """A new topic in a forum: its service message, whose id is the topic's."""
        if not chat.is_forum:
            raise ValueError(f"chat {chat.id} is not a forum")
        self.enter(opener, chat)
        message = self.new_message(chat, opener.id, topic_created=name)
        message = self.store(replace(message, thread_id=message.message_id))
        self.topics[(chat.id, message.message_id)] = Topic(chat.id, message.message_id, name)
        return message

    def target(self, params: Params, *, sending: bool) -> Chat:
        """The chat a call names; for sending, refused if the user blocked the bot."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad("chat_id is empty")
        if isinstance(chat_id, str) and re.fullmatch(r"-?[0-9]+", chat_id):
            chat_id = int(chat_id)
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad("chat not found")
        if chat.id in self.outside:
            if chat.type == "private":
                raise bad("chat not found")
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        if sending and chat.type == "private" and chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat
