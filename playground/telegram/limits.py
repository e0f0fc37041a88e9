"""Telegram's flood limits on sending, as leaky buckets shaped like aiolimiter's AsyncLimiter."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from playground.telegram.errors import ApiError
from playground.telegram.wire import Params, chat_id_of

OVERALL_RATE = 30
OVERALL_PERIOD = 1.0
"""At most 30 messages a second in all."""
PRIVATE_RATE = 3
PRIVATE_PERIOD = 3.0
"""About one message a second into a private chat, in bursts of 3."""
GROUP_RATE = 20
GROUP_PERIOD = 60.0
"""At most 20 messages a minute into a group, supergroup or channel."""

COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
"""Methods that send or change a message; sendMediaGroup counts each of its items."""

Clock = Callable[[], float]


def cost(method: str, params: Params) -> int:
    """How many messages a call counts for (0 for calls Telegram does not limit)."""
    if method not in COUNTED_METHODS:
        return 0
    if method == "sendMediaGroup":
        media = params.get("media")
        return max(len(media), 1) if isinstance(media, list) else 1
    return 1


@dataclass(frozen=True, slots=True)
class Rate:
    """`max_rate` messages per `time_period` seconds, as AsyncLimiter(max_rate, time_period)."""

    max_rate: int
    time_period: float


OVERALL = Rate(OVERALL_RATE, OVERALL_PERIOD)
PRIVATE = Rate(PRIVATE_RATE, PRIVATE_PERIOD)
GROUP = Rate(GROUP_RATE, GROUP_PERIOD)


class Bucket:
    """A leaky bucket: holds `max_rate`, drains `max_rate / time_period` a second.

    An amount over the capacity (a big album into a private chat) fits only an empty bucket.
    """

    def __init__(self, rate: Rate, clock: Clock) -> None:
        self.rate = rate
        self._clock = clock
        self._drain = rate.max_rate / rate.time_period
        self._level = 0.0
        self._at = clock()

    def _leak(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self._drain)
        self._at = now

    def wait(self, amount: int) -> float:
        """Seconds until `amount` fits (0 if it fits now)."""
        self._leak()
        excess = self._level + min(amount, self.rate.max_rate) - self.rate.max_rate
        return excess / self._drain if excess > 1e-9 else 0.0

    def take(self, amount: int) -> None:
        """Put `amount` into the bucket."""
        self._leak()
        self._level += amount


class Limits:
    """The overall, per-private-chat and per-group buckets, and what they let through."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        overall: Rate = OVERALL,
        private: Rate = PRIVATE,
        group: Rate = GROUP,
    ) -> None:
        self._clock = clock
        self._private = private
        self._group = group
        self.overall = Bucket(overall, clock)
        self._chats: dict[int, Bucket] = {}
        self.performed: Counter[int] = Counter()
        """Counted calls carried out, by chat id."""
        self.refused: Counter[int] = Counter()
        """Calls answered 429, by chat id."""

    def bucket(self, chat_id: int) -> Bucket:
        """The chat's bucket: private chats have positive ids, groups and channels negative."""
        if chat_id not in self._chats:
            rate = self._private if chat_id > 0 else self._group
            self._chats[chat_id] = Bucket(rate, self._clock)
        return self._chats[chat_id]

    def _buckets(self, chat_id: int | None) -> list[Bucket]:
        return [self.overall] if chat_id is None else [self.overall, self.bucket(chat_id)]

    def admit(self, method: str, params: Params) -> None:
        """Raise the 429 Telegram answers if the call does not fit now; it then takes nothing."""
        amount = cost(method, params)
        if not amount:
            return
        chat_id = chat_id_of(params)
        wait = max(bucket.wait(amount) for bucket in self._buckets(chat_id))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.refused[0 if chat_id is None else chat_id] += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    def count(self, method: str, params: Params) -> None:
        """A call `admit` let through was carried out: it takes its share of every bucket."""
        amount = cost(method, params)
        if not amount:
            return
        chat_id = chat_id_of(params)
        for bucket in self._buckets(chat_id):
            bucket.take(amount)
        self.performed[0 if chat_id is None else chat_id] += 1

    def counted_calls(self, chat_id: int | None = None) -> int:
        """Counted calls carried out, into one chat or in all."""
        return self.performed.total() if chat_id is None else self.performed[chat_id]

    def refusals(self, chat_id: int | None = None) -> int:
        """Calls answered 429, into one chat or in all."""
        return self.refused.total() if chat_id is None else self.refused[chat_id]
