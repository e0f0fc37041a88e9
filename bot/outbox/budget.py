"""The outbox's budgets: one leaky bucket for the bot, one per chat, and Telegram's pauses;
scaled to this instance's share when several send for one bot."""

from __future__ import annotations

import asyncio

from aiolimiter import AsyncLimiter

from bot.outbox.rules import Pacing, Priority

PRUNE_AT = 4096
"""Chat buckets kept before the drained ones are forgotten."""

_RESERVE = {Priority.ANSWER: 0.0, Priority.STATUS: 0.5, Priority.PROGRESS: 0.75}
"""The part of a bucket a call of this priority must leave free."""


class ScalableLimiter(AsyncLimiter):
    """An aiolimiter bucket whose size and drain can change while it holds what was spent."""

    def __init__(self, calls: float, seconds: float, *, share: float) -> None:
        super().__init__(calls, seconds)
        self.calls = calls
        """The bucket's size for the whole bot."""
        self._take(share)

    def scale(self, share: float) -> None:
        """Take `share` of the whole bot's size and rate; what was spent stays in the bucket,
        so a smaller bucket lets nothing through until it has drained below its new size.

        The size never drops below one call, or a small share could never send at all.
        """
        self._leak()
        self._take(share)

    def _take(self, share: float) -> None:
        self.max_rate = max(self.calls * share, 1.0)
        self._rate_per_sec = self.calls * share / self.time_period


class Budget:
    """Whether a call may go now, and spending for it; aiolimiter keeps the buckets."""

    def __init__(self, pacing: Pacing) -> None:
        self._pacing = pacing
        self._share = 1.0
        self._global = ScalableLimiter(pacing.rate, 1.0, share=1.0)
        self._chats: dict[int | str, ScalableLimiter] = {}
        self._paused: dict[int | str | None, float] = {}
        """Scopes Telegram asked to wait, until loop time; None is the whole bot."""
        self._prune_at = PRUNE_AT

    @property
    def share(self) -> float:
        """The part of the bot's budget this instance spends (1: it is the only one)."""
        return self._share

    def set_share(self, share: float) -> None:
        """Spend `share` of every bucket from now on: calls waiting stay queued where they are,
        and the buckets keep what they already took."""
        if not 0 < share <= 1:
            raise ValueError("a share of the budget is more than 0 and at most 1")
        self._share = share
        self._global.scale(share)
        for limiter in self._chats.values():
            limiter.scale(share)

    def paused_until(self, chat: int | str | None) -> float:
        """Loop time until which calls to this chat wait (the bot's pause included)."""
        bot_wide = self._paused.get(None, 0.0)
        return bot_wide if chat is None else max(bot_wide, self._paused.get(chat, 0.0))

    def pause(self, chat: int | str | None, seconds: float) -> None:
        """Telegram said retry_after: nothing goes to that chat (None: anywhere) until then."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused[chat] = max(self._paused.get(chat, 0.0), until)

    def fits(self, chat: int | str | None, cost: int, priority: Priority) -> bool:
        """Both buckets could take the call now, leaving what its priority must leave free."""
        if self.paused_until(chat) > asyncio.get_running_loop().time():
            return False
        return _fits(self._global, cost, priority, margin=self.in_flight) and (
            chat is None or _fits(self._chat(chat), cost, priority)
        )

    @property
    def in_flight(self) -> int:
        """Counted calls allowed on their way at once, and kept free in the bot's bucket."""
        if self._pacing.in_flight is not None:
            return self._pacing.in_flight
        return max(1, int(self._global.max_rate / 4))

    async def spend(self, chat: int | str | None, cost: int) -> None:
        """Take the call's share of both buckets; call only right after fits() said yes, so
        neither acquire waits and nothing else runs in between."""
        await self._global.acquire(cost)
        if chat is not None:
            await self._chat(chat).acquire(cost)
        if len(self._chats) > self._prune_at:
            self._prune()

    def _chat(self, chat: int | str) -> ScalableLimiter:
        limiter = self._chats.get(chat)
        if limiter is None:
            private = isinstance(chat, int) and chat > 0
            calls, seconds = self._pacing.private if private else self._pacing.group
            limiter = ScalableLimiter(calls, seconds, share=self._share)
            self._chats[chat] = limiter
        return limiter

    def _prune(self) -> None:
        """Forget the buckets of chats that have drained and pauses that have passed."""
        now = asyncio.get_running_loop().time()
        self._chats = {
            chat: limiter
            for chat, limiter in self._chats.items()
            if not limiter.has_capacity(limiter.max_rate)
        }
        self._paused = {scope: until for scope, until in self._paused.items() if until > now}
        self._prune_at = max(PRUNE_AT, 2 * len(self._chats))


def _fits(limiter: AsyncLimiter, cost: int, priority: Priority, *, margin: float = 0.0) -> bool:
    """Answers may use the whole bucket (less `margin`); status messages leave half of it,
    progress three quarters (at least one call), so a result never waits behind decoration."""
    size = limiter.max_rate
    headroom = 0.0 if priority is Priority.ANSWER else max(1.0, size * _RESERVE[priority])
    return cost <= size and limiter.has_capacity(min(cost + max(headroom, margin), size))
