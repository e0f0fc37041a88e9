"""CodexAeternum session tokens cached in the database, encrypted, so restarts keep them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.crypto import DecryptionError, SecretBox
from bot.storage.interfaces import SqlDatabase

logger = logging.getLogger(__name__)


class SqlSessionTokenStore:
    """A `services.codexaeternum.SessionTokenStore` in the session_tokens table."""

    def __init__(
        self, db: SqlDatabase, box: SecretBox, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    async def get(self, key: str) -> str | None:
        """The cached token, or None (also when it no longer decrypts: a new one is fetched)."""
        row = await self._db.fetchone("SELECT token FROM session_tokens WHERE key = ?", (key,))
        if row is None:
            return None
        try:
            return self._box.decrypt(row["token"], aad=token_aad(key)).decode()
        except (DecryptionError, UnicodeDecodeError):
            logger.warning("a cached session token does not decrypt; it will be exchanged again")
            return None

    async def set(self, key: str, token: str) -> None:
        """Cache a token, replacing any previous one."""
        await self._db.execute(
            "INSERT INTO session_tokens (key, token, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET"
            " token = excluded.token, updated_at = excluded.updated_at",
            (key, self._box.encrypt(token.encode(), aad=token_aad(key)), self._clock()),
        )

    async def delete(self, key: str) -> None:
        """Forget a token; no error if there is none."""
        await self._db.execute("DELETE FROM session_tokens WHERE key = ?", (key,))


def token_aad(key: str) -> bytes:
    """What a session token's blob is bound to: its key."""
    return f"token:{key}".encode()
