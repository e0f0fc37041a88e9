"""What changes in the shown chats, as events for every open page."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from playground.telegram.model import Message
from playground.telegram.state import State
from playground.web.view import message_view

Event = dict[str, Any]
_FOREVER = 24 * 3600


class Feed:
    """Watches the emulator's state; each subscriber gets every message that appears, is
    edited or deleted, the bot's chat actions and its answers to button presses."""

    def __init__(self, state: State, shown: Callable[[int], bool]) -> None:
        self._state = state
        self._shown = shown
        self._seen: dict[tuple[int, int], Message] = {}
        self._answered: set[str] = set()
        self._actions: dict[int, int] = {}
        self._subscribers: set[asyncio.Queue[Event | None]] = set()

    def snapshot(self) -> list[Event]:
        """Every shown message that exists now, oldest first."""
        return [
            {"type": "message", "message": message_view(self._state, m)}
            for key, m in sorted(self._state.messages.items())
            if self._shown(key[0]) and not m.deleted and m.topic_created is None
        ]

    async def run(self) -> None:
        """Publish changes until cancelled."""
        self._collect()  # what exists before any page opens is in the snapshot
        while True:
            await self._state.journal.wait(self._has_news, _FOREVER)
            for event in self._collect():
                for queue in self._subscribers:
                    queue.put_nowait(event)

    def close(self) -> None:
        """End every page's stream (the server is stopping)."""
        for queue in self._subscribers:
            queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event | None]]:
        """A queue of events for one page, while the block runs; None ends it."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def _has_news(self) -> bool:
        state = self._state
        return (
            len(state.messages) != len(self._seen)
            or any(self._seen.get(key) is not m for key, m in state.messages.items())
            or len(state.answers) != len(self._answered)
            or any(len(done) != self._actions.get(c, 0) for c, done in state.actions.items())
        )

    def _collect(self) -> list[Event]:
        state = self._state
        events: list[Event] = []
        for key, m in sorted(state.messages.items()):
            if self._seen.get(key) is m:
                continue
            self._seen[key] = m
            if not self._shown(m.chat_id) or m.topic_created is not None:
                continue
            if m.deleted:
                events.append({"type": "delete", "chat": m.chat_id, "id": m.message_id})
            else:
                events.append({"type": "message", "message": message_view(state, m)})
        for query_id, answer in state.answers.items():
            if query_id not in self._answered:
                self._answered.add(query_id)
                if answer.text:
                    events.append(
                        {"type": "answer", "text": answer.text, "alert": answer.show_alert}
                    )
        for chat_id, done in state.actions.items():
            if len(done) != self._actions.get(chat_id, 0):
                self._actions[chat_id] = len(done)
                if self._shown(chat_id):
                    events.append({"type": "action", "chat": chat_id, "action": done[-1]})
        return events
