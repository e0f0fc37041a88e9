"""One paced outbox for every Bot API call that sends or changes a message.

Telegram takes about 30 messages a second from a bot, about one a second in a private chat
(short bursts pass) and 20 a minute in a group, and answers 429 beyond. The outbox is a session
middleware, so no call can go around it: calls that send or edit a message wait here for their
chat's and the bot's budget, in priority order, and leave one at a time per chat (so parts of a
long answer arrive in order). Progress edits are coalesced per message and only take budget that
answers and results leave free; a `retry_after` Telegram imposes anyway pauses the chat (or the
bot) here and the call is sent again afterwards, never lost.
"""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import count
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiolimiter import AsyncLimiter

logger = logging.getLogger(__name__)


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

PRUNE_AT = 4096
"""Chat buckets kept before the drained ones are forgotten."""

_EDITS = frozenset(name for name in COUNTED_METHODS if name.startswith("edit"))


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


class Superseded(TelegramAPIError):
    """A progress edit replaced by a newer text, or made pointless by a final one; not sent."""


Call = Callable[[], Awaitable[Response[Any]]]


@dataclass(eq=False, slots=True)
class _Entry:
    priority: Priority
    seq: int
    chat: int | str | None
    message: tuple[object, ...] | None
    """The message an edit changes, for coalescing; None for sends."""
    cost: int
    call: Call
    method: TelegramMethod[Any]
    waiters: list[asyncio.Future[Response[Any]]] = field(default_factory=list)

    def wanted(self) -> bool:
        return any(not waiter.done() for waiter in self.waiters)

    def settle(self, result: Response[Any] | BaseException) -> None:
        for waiter in self.waiters:
            if waiter.done():
                continue
            if isinstance(result, BaseException):
                waiter.set_exception(result)
            else:
                waiter.set_result(result)


class Outbox(BaseRequestMiddleware):
    """The session middleware that paces, orders and coalesces message-sending calls."""

    def __init__(self, pacing: Pacing | None = None) -> None:
        self.pacing = pacing or Pacing()
        self._global = AsyncLimiter(self.pacing.rate, 1.0)
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._queues: tuple[list[_Entry], ...] = ([], [], [])
        self._progress: dict[tuple[object, ...], _Entry] = {}
        self._busy: set[object] = set()
        """Chats (or inline messages) with a call in flight: one at a time keeps them in order."""
        self._paused: dict[int | str | None, float] = {}
        """Scopes Telegram asked to wait, until loop time; None is the whole bot."""
        self._prune_at = PRUNE_AT
        self._seq = count()
        self._wakeup = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        """Counted calls sent to Telegram."""
        self.flood_waits = 0
        """429 answers received despite the pacing."""
        self.superseded = 0
        """Progress edits never sent: coalesced into a newer one or made pointless."""
        self.dropped_actions = 0
        """Chat actions skipped because the budget was short."""

    @property
    def waiting(self) -> int:
        """Calls waiting for budget."""
        return sum(len(queue) for queue in self._queues)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if name == "sendChatAction":
            return await self._chat_action(make_request, bot, method)
        if name == "deleteMessage":
            self._drop_progress(_message_key(method), method)
            return await make_request(bot, method)
        if name not in COUNTED_METHODS:
            return await make_request(bot, method)
        return await self._enqueue(make_request, bot, method)

    def has_room(self, chat_id: int | str | None, priority: Priority) -> bool:
        """Whether a call of `priority` to this chat would go out now without crowding out
        answers; the notifier asks before it spends a group's budget on a status message."""
        if self._paused_until(chat_id) > asyncio.get_running_loop().time():
            return False
        return self._fits(self._global, 1, priority, share=self.pacing.rate) and (
            chat_id is None or self._fits(self._chat_limiter(chat_id), 1, priority)
        )

    async def close(self) -> None:
        """Stop pacing; calls still waiting fail with CancelledError."""
        tasks = [*self._tasks, *([self._pump] if self._pump else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for queue in self._queues:
            for entry in queue:
                entry.settle(asyncio.CancelledError())
            queue.clear()

    async def _enqueue(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        priority = _priority.get()
        message = _message_key(method) if method.__api_method__ in _EDITS else None
        future: asyncio.Future[Response[Any]] = asyncio.get_running_loop().create_future()
        pending = self._progress.get(message) if message is not None else None
        if priority is Priority.PROGRESS and pending is not None:
            # Only the newest text of a status is ever sent.
            pending.call, pending.method = _bind(make_request, bot, method), method
            pending.waiters.append(future)
            self.superseded += 1
        else:
            if message is not None and priority is not Priority.PROGRESS:
                self._drop_progress(message, method)
            entry = _Entry(
                priority=priority,
                seq=next(self._seq),
                chat=getattr(method, "chat_id", None),
                message=message,
                cost=_cost(method),
                call=_bind(make_request, bot, method),
                method=method,
                waiters=[future],
            )
            self._queues[priority].append(entry)
            if priority is Priority.PROGRESS and message is not None:
                self._progress[message] = entry
        self._start()
        return await future

    async def _chat_action(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        # Not counted by Telegram, but skipped when answers wait: it is only decoration.
        chat = getattr(method, "chat_id", None)
        if self.waiting or not self.has_room(chat, Priority.PROGRESS):
            self.dropped_actions += 1
            return cast(Response[TelegramType], Response[bool](ok=True, result=True))
        return await make_request(bot, method)

    def _drop_progress(
        self, message: tuple[object, ...] | None, method: TelegramMethod[Any]
    ) -> None:
        """A final edit or a delete makes a pending progress edit of that message pointless."""
        pending = self._progress.pop(message, None) if message is not None else None
        if pending is None:
            return
        self._queues[Priority.PROGRESS].remove(pending)
        pending.settle(Superseded(method=method, message="superseded by a later change"))
        self.superseded += 1

    def _start(self) -> None:
        self._wakeup.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="outbox")

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            delay = await self._dispatch()
            if delay is None:
                await self._wakeup.wait()
                continue
            with suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()

    async def _dispatch(self) -> float | None:
        """Send every call the budgets allow, best first; how long until another may go."""
        now = asyncio.get_running_loop().time()
        delay: float | None = None
        held: set[object] = set()
        """Scopes where an earlier or better call waits: nothing behind it may overtake."""
        for queue in self._queues:
            kept: list[_Entry] = []
            for entry in queue:
                if not entry.wanted():
                    self._forget(entry)
                    continue
                scope = entry.chat if entry.chat is not None else entry.message
                pause = max(self._paused_until(entry.chat), self._paused.get(None, 0.0))
                if scope in held or scope in self._busy:
                    kept.append(entry)
                elif pause > now or not await self._take(entry):
                    held.add(scope)
                    wait = pause - now if pause > now else self.pacing.tick
                    delay = wait if delay is None else min(delay, wait)
                    kept.append(entry)
                else:
                    self._launch(entry, scope)
            queue[:] = kept
        if len(self._chats) > self._prune_at:
            self._prune(now)
        return delay

    def _prune(self, now: float) -> None:
        """Forget the buckets of chats that have drained and pauses that have passed."""
        self._chats = {
            chat: limiter
            for chat, limiter in self._chats.items()
            if not limiter.has_capacity(limiter.max_rate)
        }
        self._paused = {scope: until for scope, until in self._paused.items() if until > now}
        self._prune_at = max(PRUNE_AT, 2 * len(self._chats))

    async def _take(self, entry: _Entry) -> bool:
        """Spend the budget for this call if both of its buckets allow it now."""
        chat = None if entry.chat is None else self._chat_limiter(entry.chat)
        if not self._fits(self._global, entry.cost, entry.priority, share=self.pacing.rate):
            return False
        if chat is not None and not self._fits(chat, entry.cost, entry.priority):
            return False
        # Both have capacity, so neither acquire waits: nothing else runs in between.
        await self._global.acquire(entry.cost)
        if chat is not None:
            await chat.acquire(entry.cost)
        return True

    @staticmethod
    def _fits(
        limiter: AsyncLimiter, cost: int, priority: Priority, *, share: float | None = None
    ) -> bool:
        """Answers may use the whole bucket; status messages leave half of it, progress three
        quarters (at least one call), so a result never waits behind decoration."""
        size = share if share is not None else limiter.max_rate
        reserve = {Priority.ANSWER: 0.0, Priority.STATUS: 0.5, Priority.PROGRESS: 0.75}[priority]
        headroom = max(1.0, size * reserve) if priority is not Priority.ANSWER else 0.0
        return cost <= limiter.max_rate and limiter.has_capacity(min(cost + headroom, size))

    def _launch(self, entry: _Entry, scope: object) -> None:
        self._forget(entry)
        self._busy.add(scope)
        task = asyncio.create_task(self._send(entry, scope), name="outbox-send")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, entry: _Entry, scope: object) -> None:
        try:
            result = await entry.call()
        except TelegramRetryAfter as e:
            self.flood_waits += 1
            self._pause(entry.chat, e.retry_after)
            logger.warning(
                "Telegram asked to wait %d s (%s); the call waits in the outbox",
                e.retry_after,
                entry.method.__api_method__,
            )
            entry.seq = -1 if entry.priority is Priority.ANSWER else entry.seq
            bisect.insort(self._queues[entry.priority], entry, key=lambda e: e.seq)
        except BaseException as e:
            entry.settle(e)
            if isinstance(e, asyncio.CancelledError):
                raise
        else:
            self.sent += 1
            entry.settle(result)
        finally:
            self._busy.discard(scope)
            self._wakeup.set()

    def _forget(self, entry: _Entry) -> None:
        if entry.message is not None and self._progress.get(entry.message) is entry:
            del self._progress[entry.message]

    def _pause(self, chat: int | str | None, seconds: int) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._paused[chat] = max(self._paused.get(chat, 0.0), until)

    def _paused_until(self, chat: int | str | None) -> float:
        return self._paused.get(chat, 0.0) if chat is not None else 0.0

    def _chat_limiter(self, chat: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat)
        if limiter is None:
            calls, seconds = (
                self.pacing.private if isinstance(chat, int) and chat > 0 else self.pacing.group
            )
            limiter = AsyncLimiter(calls, seconds)
            self._chats[chat] = limiter
        return limiter


def _bind(
    make_request: NextRequestMiddlewareType[TelegramType],
    bot: Bot,
    method: TelegramMethod[TelegramType],
) -> Call:
    return lambda: make_request(bot, method)


def _message_key(method: TelegramMethod[Any]) -> tuple[object, ...] | None:
    inline = getattr(method, "inline_message_id", None)
    if inline is not None:
        return ("inline", inline)
    message_id = getattr(method, "message_id", None)
    return None if message_id is None else (getattr(method, "chat_id", None), message_id)


def _cost(method: TelegramMethod[Any]) -> int:
    for field_name in ("media", "message_ids"):
        items = getattr(method, field_name, None)
        if isinstance(items, list):
            return max(1, len(items))
    return 1
