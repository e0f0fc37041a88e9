"""A small in-memory map of the most recently used entries, for rows read on every update."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

RECENT_USERS = 10_000
"""Users whose rows are kept: every update reads its sender's, so recent senders skip SQLite."""

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Up to `size` entries; the least recently used one goes first.

    For tables whose writers call `forget` after each write: in this process (the DATA_DIR lock
    makes it the only writer on SQLite), and on PostgreSQL as every instance's write is heard
    (bot/storage/postgres/listener.py). Values are shared: never mutate one.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._loading: dict[K, asyncio.Event] = {}
        self._forgotten = 0
        """Counts forget() calls: a read that saw one meanwhile may hold the old row."""
        self._caching = True

    async def load(self, key: K, read: Callable[[], Awaitable[V | None]]) -> V | None:
        """The entry, read with `read` if it is not kept (None: there is no such row).

        Concurrent loads of one key share a single read: a burst of updates from one user
        (an album, a queue after downtime) costs one query, not one each.
        """
        if not self._caching:
            return await read()
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
            return value
        loading = self._loading.get(key)
        if loading is not None:
            await loading.wait()
            value = self._entries.get(key)
            # Not kept after all (no row, a write meanwhile, or the read failed): read anew.
            return value if value is not None else await read()
        loading = self._loading[key] = asyncio.Event()
        forgotten = self._forgotten
        try:
            value = await read()
            if value is not None and forgotten == self._forgotten:
                self._put(key, value)
            return value
        finally:
            if self._loading.get(key) is loading:
                del self._loading[key]
            loading.set()

    def forget(self, key: K) -> None:
        """Drop the entry (after a write changed its row)."""
        self._forgotten += 1
        self._entries.pop(key, None)

    def set_caching(self, on: bool) -> None:
        """Keep entries (on), or forget them all and read every time (off)."""
        self._caching = on
        if not on:
            self._forgotten += 1
            self._entries.clear()

    def _put(self, key: K, value: V) -> None:
        self._entries[key] = value
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
