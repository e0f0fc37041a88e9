"""Drops this instance's cached rows when any instance writes them: PostgreSQL's triggers on
the cached tables NOTIFY `iris_recent` with `table:key` as each write commits. Others may
watch a table's notifications too (instances joining and leaving)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg

from bot.background import cancel_and_wait
from bot.storage.postgres.migrations import Connection
from bot.storage.recent import Recent

logger = logging.getLogger(__name__)

CHANNEL = "iris_recent"
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
"""Seconds between attempts to listen again; the last repeats."""


class RecentListener:
    """Listens on a connection of its own; while it is not listening, the caches are off."""

    def __init__(self, url: str, caches: Mapping[str, Recent[int, Any]]) -> None:
        self._url = url
        self._caches = caches
        self._conn: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False
        self._watchers: dict[str, list[Callable[[str], None]]] = {}

    @classmethod
    async def start(cls, url: str, caches: Mapping[str, Recent[int, Any]]) -> RecentListener:
        """Listen before any cache is filled, so no write can go unheard."""
        listener = cls(url, caches)
        await listener._listen()
        return listener

    def watch(self, table: str, changed: Callable[[str], None]) -> None:
        """Call `changed` with the written row's key on each write to `table`, and with ""
        when writes may have gone unheard."""
        self._watchers.setdefault(table, []).append(changed)

    @property
    def listening(self) -> bool:
        """Whether writes are heard now (caching is on)."""
        return self._conn is not None

    async def close(self) -> None:
        """Stop listening."""
        self._closed = True
        await cancel_and_wait(self._reconnecting)
        if self._conn is not None:
            await self._conn.close()

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self._url)
        conn.add_termination_listener(self._lost)
        await conn.add_listener(CHANNEL, self._notified)
        self._conn = conn
        self._set_caching(True)

    def _notified(self, conn: Connection, pid: int, channel: str, payload: object) -> None:
        table, _, key = str(payload).partition(":")
        for changed in self._watchers.get(table, ()):
            changed(key)
        cache = self._caches.get(table)
        if cache is not None and key.lstrip("-").isdigit():
            cache.forget(int(key))

    def _lost(self, conn: object) -> None:
        """Writes may now go unheard: forget everything and cache nothing until heard again."""
        self._conn = None
        self._set_caching(False)
        if not self._closed:
            logger.warning("lost the cache invalidation channel; caching is off until it is back")
            self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        for attempt in range(10**9):
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("cannot listen for invalidations yet: %s", type(error).__name__)
                continue
            logger.info("listening for cache invalidations again")
            for watchers in self._watchers.values():
                for changed in watchers:
                    changed("")
            return

    def _set_caching(self, on: bool) -> None:
        for cache in self._caches.values():
            cache.set_caching(on)
