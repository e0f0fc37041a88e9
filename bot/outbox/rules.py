"""What the outbox knows about a call: which ones Telegram counts, their priority, their cost."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod


class Priority(IntEnum):
    """Which call goes first when the budget is short (lower first)."""

    ANSWER = 0
    """Answers to what a user just did, and results: photos, descriptions, failures."""
    STATUS = 1
    """A job's status message."""
    PROGRESS = 2
    """Progress edits and chat actions: coalesced, and only on budget nobody else needs."""


COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendAnimation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
"""Methods Telegram counts against a bot's message limits."""

EDITS = frozenset(name for name in COUNTED_METHODS if name.startswith("edit"))


@dataclass(frozen=True, slots=True)
class Pacing:
    """Telegram's limits as leaky buckets: (calls, seconds) per scope."""

    rate: float = 30.0
    """Calls a second across all chats (TELEGRAM_RATE)."""
    private: tuple[int, float] = (3, 3.0)
    """About one a second in one private chat, bursts of three."""
    group: tuple[int, float] = (20, 60.0)
    """Twenty a minute in one group, supergroup or channel."""
    tick: float = 0.02
    """How soon a call held back by a full bucket is looked at again."""


_priority: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "outbox_priority", default=Priority.ANSWER
)


@contextmanager
def sending_as(priority: Priority) -> Iterator[None]:
    """Calls made inside this block go out with `priority` (default: ANSWER)."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> Priority:
    """The priority of calls made here and now."""
    return _priority.get()


class Superseded(TelegramAPIError):
    """A progress edit replaced by a newer text, or made pointless by a final one; not sent."""


def message_key(method: TelegramMethod[Any]) -> tuple[object, ...] | None:
    """The message a call changes or deletes, for coalescing; None for new messages."""
    inline = getattr(method, "inline_message_id", None)
    if inline is not None:
        return ("inline", inline)
    message_id = getattr(method, "message_id", None)
    return None if message_id is None else (getattr(method, "chat_id", None), message_id)


def cost(method: TelegramMethod[Any]) -> int:
    """How many messages Telegram counts for the call (an album counts each item)."""
    for field_name in ("media", "message_ids"):
        items = getattr(method, field_name, None)
        if isinstance(items, list):
            return max(1, len(items))
    return 1
