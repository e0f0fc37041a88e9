"""The users table, with recent senders' rows kept in memory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial

from bot.storage.interfaces import Row, SqlDatabase
from bot.storage.recent import RECENT_USERS, Recent
from bot.storage.sql.locks import user_lock
from bot.storage.users import UserRecord

_SELECT = "SELECT id, language, telegram_language, settings, active FROM users"


class SqlUsers:
    """The users table, with the most recent senders' records cached (forgotten on every write,
    any instance's on PostgreSQL). Records are shared: never mutate one."""

    def __init__(self, db: SqlDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._cache: Recent[int, UserRecord] = Recent(RECENT_USERS)

    @property
    def recent(self) -> Recent[int, UserRecord]:
        """The cached records, by user id."""
        return self._cache

    async def touch(self, user_id: int, *, telegram_language: str | None) -> UserRecord:
        """The user, created if new; writes only when something changed (every update calls it).

        A None `telegram_language` (Telegram did not say) keeps the one already known.
        """
        user = await self.get(user_id)
        if (
            user is not None
            and user.active
            and (telegram_language is None or telegram_language == user.telegram_language)
        ):
            return user
        now = self._clock()
        await self._db.execute(
            "INSERT INTO users (id, telegram_language, created_at, updated_at)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET"
            " telegram_language = coalesce(excluded.telegram_language, users.telegram_language),"
            " active = 1, updated_at = excluded.updated_at",
            (user_id, telegram_language, now, now),
        )
        self._forget(user_id)
        stored = await self.get(user_id)
        if stored is None:
            raise RuntimeError("the user row vanished right after it was written")
        return stored

    async def get(self, user_id: int) -> UserRecord | None:
        """The user, or None if never seen."""
        return await self._cache.load(user_id, partial(self._read, user_id))

    async def _read(self, user_id: int) -> UserRecord | None:
        row = await self._db.fetchone(_SELECT + " WHERE id = ?", (user_id,))
        return None if row is None else _record(row)

    def _forget(self, user_id: int) -> None:
        """Called after each write to a user's row."""
        self._cache.forget(user_id)

    async def set_language(self, user_id: int, language: str | None) -> None:
        """Store the user's explicit language choice; None goes back to Telegram's."""
        now = self._clock()
        await self._db.execute(
            "INSERT INTO users (id, language, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET"
            " language = excluded.language, updated_at = excluded.updated_at",
            (user_id, language, now, now),
        )
        self._forget(user_id)

    async def set_preference(self, user_id: int, name: str, value: str | None) -> None:
        """Set one /settings preference; None removes it (the default applies again)."""
        now = self._clock()
        async with self._db.transaction(user_lock(user_id)) as tx:
            row = await tx.fetchone("SELECT settings FROM users WHERE id = ?", (user_id,))
            preferences = _preferences(row["settings"]) if row is not None else {}
            if value is None:
                preferences.pop(name, None)
            else:
                preferences[name] = value
            await tx.execute(
                "INSERT INTO users (id, settings, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET"
                " settings = excluded.settings, updated_at = excluded.updated_at",
                (user_id, json.dumps(preferences, sort_keys=True), now, now),
            )
        self._forget(user_id)

    async def set_active(self, user_id: int, active: bool) -> None:
        """Mark whether the bot can reach the user (False once they block it)."""
        await self._db.execute(
            "UPDATE users SET active = ?, updated_at = ? WHERE id = ? AND active != ?",
            (int(active), self._clock(), user_id, int(active)),
        )
        self._forget(user_id)

    async def count(self) -> int:
        """How many users the bot has seen."""
        row = await self._db.fetchone("SELECT count(*) FROM users")
        return int(row[0]) if row is not None else 0


def _record(row: Row) -> UserRecord:
    return UserRecord(
        id=row["id"],
        language=row["language"],
        telegram_language=row["telegram_language"],
        preferences=_preferences(row["settings"]),
        active=bool(row["active"]),
    )


def _preferences(text: str) -> dict[str, str]:
    """The preferences object, keeping only string values (the only kind ever written)."""
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}
