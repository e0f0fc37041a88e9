"""What happened, in order: every call and download, and a wake-up for whoever waits on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from playground.telegram.wire import ApiCall


class Journal:
    """The calls the emulator received, its own failures, the downloads; waiting on changes."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.errors: list[str] = []
        """Exceptions inside the emulator's handlers (answered 500): protocol surprises."""
        self.downloads: list[str] = []
        """File paths downloaded from /file/bot<token>/."""
        self._tick = asyncio.Event()

    def record(self, call: ApiCall) -> int:
        """Add a call; its index, to fill in its outcome later."""
        self.calls.append(call)
        self.changed()
        return len(self.calls) - 1

    def changed(self) -> None:
        """Wake every waiter, to check its condition again."""
        # A fresh Event per change lets synchronous code wake every waiter without a lock.
        self._tick.set()
        self._tick = asyncio.Event()

    async def wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Whether `ready()` came true within `timeout` seconds, checked on every change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._tick.wait(), remaining)
            except TimeoutError:
                return ready()
        return True
