"""Instances sharing one database: each keeps a heartbeat row and sends at its share of the
bot's Telegram budget (TELEGRAM_RATE and each chat's limit, divided by the live instances)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable

from bot.background import cancel_and_wait
from bot.storage import DATABASE_ERRORS, Storage
from bot.storage.interfaces import SqlDatabase

logger = logging.getLogger(__name__)

HEARTBEAT = 2.0
"""Seconds between an instance's heartbeats."""
STALE_AFTER = 3 * HEARTBEAT
"""An instance not seen for this long is gone (killed, or cut off): the others take its share."""
SHARED_HEADROOM = 0.9
"""Of the budget several instances split: their calls reach Telegram with delays of their own,
so two streams each within its share can still meet at the limit; a tenth absorbs that."""


def new_instance_id() -> str:
    """A random name for this process: its heartbeat row and the owner of the jobs it runs."""
    return secrets.token_hex(8)


def share_of(live: int) -> float:
    """The part of the bot's budget one of `live` instances spends."""
    return 1.0 if live <= 1 else SHARED_HEADROOM / live


class InstanceRegistry:
    """This instance's row in `instances`; counts the live ones and hands on its share."""

    def __init__(
        self,
        db: SqlDatabase,
        on_share: Callable[[float], None],
        *,
        instance: str | None = None,
        every: float = HEARTBEAT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.id = instance or new_instance_id()
        self._db = db
        self._on_share = on_share
        self._every = every
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.live = 1
        """Live instances at the last heartbeat, this one included."""

    async def start(self) -> None:
        """Register (so the others slow down before this one sends) and beat from now on."""
        await self.beat()
        self._task = asyncio.create_task(self._run(), name="instance-heartbeat")

    def wake(self) -> None:
        """Count again now: an instance joined or left."""
        self._wake.set()

    async def beat(self) -> int:
        """Say this instance lives, forget the stale ones, and take its share of the budget."""
        now = self._clock()
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO instances (id, seen_at) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                (self.id, now),
            )
            await tx.execute("DELETE FROM instances WHERE seen_at < ?", (now - STALE_AFTER,))
            row = await tx.fetchone("SELECT count(*) FROM instances")
        self.live = max(1, int(row[0]) if row is not None else 1)
        self._on_share(share_of(self.live))
        return self.live

    async def stop(self) -> None:
        """Stop beating and leave, so the others take this instance's share at once."""
        await cancel_and_wait(self._task)
        with contextlib.suppress(*DATABASE_ERRORS):
            await self._db.execute("DELETE FROM instances WHERE id = ?", (self.id,))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._every):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.beat()
            except DATABASE_ERRORS as error:
                # The share stays as it was: the others still count this instance meanwhile.
                logger.warning("instance heartbeat failed: %s", type(error).__name__)


async def join_instances(
    storage: Storage, on_share: Callable[[float], None], *, instance: str
) -> InstanceRegistry | None:
    """On a shared database, register and keep this instance's share up to date; None alone."""
    if storage.listener is None:
        return None
    registry = InstanceRegistry(storage.db, on_share, instance=instance)
    storage.listener.watch("instances", lambda _: registry.wake())
    await registry.start()
    return registry
