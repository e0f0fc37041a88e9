"""The in-memory map of recent rows: eviction, shared reads, and writes racing reads."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable

import pytest

from bot.storage.recent import Recent


class _Reads:
    """A table for Recent: counts reads; `gate` holds them until set."""

    def __init__(self) -> None:
        self.rows = {1: "one", 2: "two", 3: "three"}
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.failures = 0
        """Reads still to fail."""

    def of(self, key: int) -> Callable[[], Awaitable[str | None]]:
        async def read() -> str | None:
            self.reads += 1
            row = self.rows.get(key)  # read now, answered when the gate opens
            await self.gate.wait()
            if self.failures:
                self.failures -= 1
                raise sqlite3.OperationalError("disk I/O error")
            return row

        return read


async def test_recent_keeps_the_most_recently_used_entries() -> None:
    recent: Recent[int, str] = Recent(2)
    table = _Reads()
    for key in (1, 2, 1, 3):  # 2 is the least recently used when 3 comes
        await recent.load(key, table.of(key))
    assert table.reads == 3
    assert await recent.load(1, table.of(1)) == "one"
    assert await recent.load(3, table.of(3)) == "three"
    assert table.reads == 3
    assert await recent.load(2, table.of(2)) == "two"
    assert table.reads == 4
    assert await recent.load(9, table.of(9)) is None  # no row: nothing kept
    assert await recent.load(9, table.of(9)) is None
    assert table.reads == 6


async def test_concurrent_loads_of_one_key_share_a_single_read() -> None:
    recent: Recent[int, str] = Recent(10)
    table = _Reads()
    table.gate.clear()
    loads = [asyncio.create_task(recent.load(1, table.of(1))) for _ in range(50)]
    await asyncio.sleep(0)
    table.gate.set()
    assert await asyncio.gather(*loads) == ["one"] * 50
    assert table.reads == 1


async def test_a_write_during_a_read_keeps_the_old_value_out() -> None:
    recent: Recent[int, str] = Recent(10)
    table = _Reads()
    table.gate.clear()
    first = asyncio.create_task(recent.load(1, table.of(1)))
    await asyncio.sleep(0)
    table.rows[1] = "uno"  # written while the read was in flight...
    recent.forget(1)  # ...and forgotten after the write, as every writer does
    table.gate.set()
    assert await first == "one"
    assert await recent.load(1, table.of(1)) == "uno"


async def test_a_failed_shared_read_lets_each_waiter_read_for_itself() -> None:
    recent: Recent[int, str] = Recent(10)
    table = _Reads()
    table.gate.clear()
    table.failures = 1
    first = asyncio.create_task(recent.load(1, table.of(1)))
    await asyncio.sleep(0)
    second = asyncio.create_task(recent.load(1, table.of(1)))
    await asyncio.sleep(0)
    table.gate.set()
    with pytest.raises(sqlite3.OperationalError):
        await first
    assert await second == "one"
    assert table.reads == 2
