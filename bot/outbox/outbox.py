"""The outbox middleware: message-sending calls wait here for budget, best first, in order."""

from __future__ import annotations

import asyncio
import heapq
import logging
from itertools import count
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.outbox.budget import Budget
from bot.outbox.entry import Entry, bind
from bot.outbox.rules import (
    COUNTED_METHODS,
    EDITS,
    Pacing,
    Priority,
    Superseded,
    cost,
    current_sending,
    message_key,
)

logger = logging.getLogger(__name__)


class Outbox(BaseRequestMiddleware):
    """The session middleware that paces, orders and coalesces message-sending calls.

    Counted calls wait here for the bot's and their chat's budget, in priority order, and leave
    one at a time per chat (so parts of a long answer arrive in order). Progress edits are
    coalesced per message; a `retry_after` Telegram imposes anyway pauses the chat and the call
    is sent again afterwards, never lost.
    """

    def __init__(self, pacing: Pacing | None = None) -> None:
        self.pacing = pacing or Pacing()
        self._budget = Budget(self.pacing)
        self._scopes: dict[object, list[tuple[int, int, Entry]]] = {}
        """Per scope, its waiting calls by (priority, seq); taken-out entries are skipped."""
        self._expiring: list[tuple[float, int, Entry]] = []
        self._waiting = 0
        self._progress: dict[tuple[object, ...], Entry] = {}
        self._busy: set[object] = set()
        """Scopes with a call in flight: one at a time keeps them in order."""
        self._in_flight = 0
        """Counted calls on their way to Telegram (at most the budget's in_flight)."""
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
        return self._waiting

    @property
    def share(self) -> float:
        """The part of the bot's Telegram budget this instance spends."""
        return self._budget.share

    def set_share(self, share: float) -> None:
        """Pace at `share` of TELEGRAM_RATE and of each chat's limit (several instances send
        for one bot); queued calls stay queued and are looked at again at the new pace."""
        if share != self._budget.share:
            logger.info("sending at %.0f%% of the bot's Telegram budget", share * 100)
            self._budget.set_share(share)
        self._wakeup.set()

    def has_room(self, chat_id: int | str | None, priority: Priority) -> bool:
        """Whether a call of `priority` to this chat would go out now without crowding out
        answers; the notifier asks before it spends a group's budget on a status message."""
        return self._budget.fits(chat_id, 1, priority)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if name == "sendChatAction":
            # Not counted by Telegram, but skipped when answers wait: it is only decoration.
            if self.waiting or not self.has_room(
                getattr(method, "chat_id", None), Priority.PROGRESS
            ):
                self.dropped_actions += 1
                return cast(Response[TelegramType], Response[bool](ok=True, result=True))
        elif name == "deleteMessage":
            self._drop_progress(message_key(method), method)
        elif name in COUNTED_METHODS:
            return await self._enqueue(make_request, bot, method)
        return await make_request(bot, method)

    async def close(self) -> None:
        """Stop pacing; calls still waiting fail with CancelledError."""
        tasks = [*self._tasks, *([self._pump] if self._pump else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for heap in self._scopes.values():
            for _, _, entry in heap:
                if entry.queued:
                    self._unqueue(entry)
                    entry.settle(asyncio.CancelledError())
        self._scopes.clear()

    async def _enqueue(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        sending = current_sending()
        priority = sending.priority
        message = message_key(method) if method.__api_method__ in EDITS else None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Response[Any]] = loop.create_future()
        pending = self._progress.get(message) if message is not None else None
        if priority is Priority.PROGRESS and pending is not None:
            # Only the newest text of a status is ever sent.
            pending.call, pending.method = bind(make_request, bot, method), method
            pending.waiters.append(future)
            self.superseded += 1
        else:
            if message is not None and priority is not Priority.PROGRESS:
                self._drop_progress(message, method)
            entry = Entry(
                priority=priority,
                seq=next(self._seq),
                chat=getattr(method, "chat_id", None),
                message=message,
                cost=cost(method),
                call=bind(make_request, bot, method),
                method=method,
                waiters=[future],
                expires=None if sending.within is None else loop.time() + sending.within,
            )
            self._queue(entry)
            if entry.expires is not None:
                heapq.heappush(self._expiring, (entry.expires, entry.seq, entry))
            if priority is Priority.PROGRESS and message is not None:
                self._progress[message] = entry
        self._wakeup.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="outbox")
        return await future

    def _drop_progress(
        self, message: tuple[object, ...] | None, method: TelegramMethod[Any]
    ) -> None:
        """A final edit or a delete makes a pending progress edit of that message pointless."""
        pending = self._progress.pop(message, None) if message is not None else None
        if pending is None:
            return
        self._unqueue(pending)
        pending.settle(Superseded(method=method, message="superseded by a later change"))
        self.superseded += 1

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            delay = await self._dispatch()
            try:
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    async def _dispatch(self) -> float | None:
        """Send every call the budgets allow, best first; how long until another may go."""
        now = asyncio.get_running_loop().time()
        delay = self._expire(now)
        # Only each scope's first call may go (one at a time per chat), so only those compete.
        heads = [head for head in map(self._head, list(self._scopes)) if head is not None]
        heads.sort(key=lambda head: (head.priority, head.seq))
        for entry in heads:
            if self._in_flight >= self._budget.in_flight:
                break  # woken again when one of them arrives
            if self._budget.fits(entry.chat, entry.cost, entry.priority):
                await self._budget.spend(entry.chat, entry.cost)
                heapq.heappop(self._scopes[entry.scope])
                self._launch(entry)
                continue
            pause = self._budget.paused_until(entry.chat)
            wait = pause - now if pause > now else self.pacing.tick
            delay = wait if delay is None else min(delay, wait)
        return delay

    def _head(self, scope: object) -> Entry | None:
        """The scope's next call, if it has one and nothing of it is in flight."""
        heap = self._scopes[scope]
        while heap and not (heap[0][2].queued and heap[0][2].wanted()):
            _, _, gone = heapq.heappop(heap)
            if gone.queued:  # all who waited for it were cancelled
                self._unqueue(gone)
        if not heap:
            del self._scopes[scope]
            return None
        return None if scope in self._busy else heap[0][2]

    def _expire(self, now: float) -> float | None:
        """Drop calls no longer worth sending; how long until the next one expires."""
        while self._expiring and self._expiring[0][0] <= now:
            _, _, entry = heapq.heappop(self._expiring)
            if entry.queued:
                self._unqueue(entry)
                entry.settle(Superseded(method=entry.method, message="no budget in time"))
        return self._expiring[0][0] - now if self._expiring else None

    def _queue(self, entry: Entry) -> None:
        entry.queued = True
        self._waiting += 1
        heapq.heappush(self._scopes.setdefault(entry.scope, []), (entry.priority, entry.seq, entry))

    def _unqueue(self, entry: Entry) -> None:
        entry.queued = False
        self._waiting -= 1
        if entry.message is not None and self._progress.get(entry.message) is entry:
            del self._progress[entry.message]

    def _launch(self, entry: Entry) -> None:
        self._unqueue(entry)
        self._busy.add(entry.scope)
        self._in_flight += 1
        task = asyncio.create_task(self._send(entry), name="outbox-send")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, entry: Entry) -> None:
        try:
            result = await entry.call()
        except TelegramRetryAfter as e:
            self.flood_waits += 1
            self._budget.pause(entry.chat, e.retry_after)
            logger.warning(
                "Telegram asked to wait %d s (%s); the call waits in the outbox",
                e.retry_after,
                entry.method.__api_method__,
            )
            # An answer goes first once the pause is over; the others keep their place.
            entry.seq = -1 if entry.priority is Priority.ANSWER else entry.seq
            self._queue(entry)
        except BaseException as e:
            entry.settle(e)
            if isinstance(e, asyncio.CancelledError):
                raise
        else:
            self.sent += 1
            entry.settle(result)
        finally:
            self._in_flight -= 1
            self._busy.discard(entry.scope)
            self._wakeup.set()
