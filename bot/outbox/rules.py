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
    in_flight: int | None = None
    """Counted calls on their way to Telegram at once (None: a quarter of `rate`, 7 at 30/s).
    The outbox counts a call when it lets it go, Telegram when it arrives; calls delayed on the
    way (a busy event loop, a full connection pool) would arrive bunched. With at most this many
    in flight and as many calls of the bot's bucket kept free, a bunch can never exceed what
    Telegram still accepts."""


@dataclass(frozen=True, slots=True)
class Sending:
    """How calls made here go out: their priority, and how long they are worth waiting for."""

    priority: Priority = Priority.ANSWER
    within: float | None = None
    """Seconds after which a call still waiting is dropped (Superseded); None: never."""


_ANSWERS = Sending()
_sending: contextvars.ContextVar[Sending | None] = contextvars.ContextVar(
    "outbox_sending", default=None
)


@contextmanager
def sending_as(priority: Priority, *, within: float | None = None) -> Iterator[None]:
    """Calls made inside this block go out with `priority` (default: ANSWER); with `within`,
    a call that found no budget in that many seconds is dropped instead of sent late."""
    token = _sending.set(Sending(priority, within))
    try:
        yield
    finally:
        _sending.reset(token)


def current_sending() -> Sending:
    """How calls made here and now go out."""
    return _sending.get() or _ANSWERS


class Superseded(TelegramAPIError):
    """Not sent: a progress edit replaced by a newer text or made pointless by a final one, or
    a call that found no budget within its time."""


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
