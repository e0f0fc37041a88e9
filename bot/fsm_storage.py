"""aiogram's FSM state (the gallery's rename step) in the database, shared by every instance."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.storage.interfaces import SqlDatabase


class SqlFsmStorage(BaseStorage):
    """One fsm_state row per key: the state and the data as a JSON object; a row with neither
    is deleted, so the table holds only conversations in progress."""

    def __init__(self, db: SqlDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._keys = DefaultKeyBuilder(with_destiny=True, with_bot_id=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        """Store the key's state (None clears it)."""
        value = state.state if isinstance(state, State) else state
        await self._db.execute(
            "INSERT INTO fsm_state (key, state, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (self._keys.build(key), value, self._clock()),
        )
        await self._drop_if_empty(key)

    async def get_state(self, key: StorageKey) -> str | None:
        """The key's state, or None."""
        row = await self._db.fetchone(
            "SELECT state FROM fsm_state WHERE key = ?", (self._keys.build(key),)
        )
        return None if row is None else row["state"]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """Store the key's data, a JSON-serialisable dict."""
        if not isinstance(data, dict):
            raise DataNotDictLikeError(
                f"Data must be a dict or dict-like object, got {type(data).__name__}"
            )
        await self._db.execute(
            "INSERT INTO fsm_state (key, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (self._keys.build(key), json.dumps(data), self._clock()),
        )
        await self._drop_if_empty(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The key's data ({} when none)."""
        row = await self._db.fetchone(
            "SELECT data FROM fsm_state WHERE key = ?", (self._keys.build(key),)
        )
        data: dict[str, Any] = {} if row is None else json.loads(row["data"])
        return data

    async def close(self) -> None:
        """Nothing to close: the database is the storage's."""

    async def _drop_if_empty(self, key: StorageKey) -> None:
        await self._db.execute(
            "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data = '{}'",
            (self._keys.build(key),),
        )
