"""Where state that instances must agree on lives: this process's memory on SQLite (one
process owns DATA_DIR), the shared database on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot.fsm_storage import SqlFsmStorage
from bot.rate_hits import AlbumClaims, AlbumMemo, MemoryRateHits, RateHits
from bot.storage import Storage
from bot.storage.sql.shared_state import SqlAlbumClaims, SqlRateHits


@dataclass(frozen=True, slots=True)
class SharedState:
    """The rate limit's counts and clock, album claims and the FSM storage."""

    rate_hits: RateHits
    rate_clock: Callable[[], float]
    """Monotonic in one process; wall time when several processes compare their hits."""
    albums: AlbumClaims
    fsm: BaseStorage


def shared_state(storage: Storage, *, several_instances: bool) -> SharedState:
    """In memory for one process, in the database when several instances share it."""
    if not several_instances:
        return SharedState(MemoryRateHits(), time.monotonic, AlbumMemo(), MemoryStorage())
    db = storage.db
    return SharedState(SqlRateHits(db), time.time, SqlAlbumClaims(db), SqlFsmStorage(db))
