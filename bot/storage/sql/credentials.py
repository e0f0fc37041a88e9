"""Users' provider credentials, encrypted and bound to their (user, provider) row."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial

from bot.crypto import DecryptionError, SecretBox
from bot.storage.interfaces import SqlDatabase
from bot.storage.recent import RECENT_USERS, Recent

logger = logging.getLogger(__name__)


class SqlCredentials:
    """The credentials table: the parts as typed to /setkey, only ever stored encrypted."""

    def __init__(
        self, db: SqlDatabase, box: SecretBox, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        # Only the masked forms: the secrets themselves are decrypted from the table when used.
        self._masked: Recent[int, dict[str, str]] = Recent(RECENT_USERS)

    @property
    def recent(self) -> Recent[int, dict[str, str]]:
        """The cached masked forms, by user id."""
        return self._masked

    async def put(self, user_id: int, provider: str, parts: Sequence[str], *, masked: str) -> None:
        """Store (or replace) the user's credential for `provider`; `masked` is shown in /keys."""
        secret = self._box.encrypt(
            json.dumps(list(parts)).encode(), aad=credential_aad(user_id, provider)
        )
        await self._db.execute(
            "INSERT INTO credentials (user_id, provider, secret, masked, created_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, provider) DO UPDATE SET"
            " secret = excluded.secret, masked = excluded.masked,"
            " created_at = excluded.created_at",
            (user_id, provider, secret, masked, self._clock()),
        )
        self._masked.forget(user_id)

    async def get(self, user_id: int, provider: str) -> tuple[str, ...] | None:
        """The stored parts, or None if there are none or they no longer decrypt.

        A blob that fails to decrypt (KEYS_SECRET changed, or a blob from another row) counts
        as missing: the user is asked to /setkey again instead of seeing an error.
        """
        row = await self._db.fetchone(
            "SELECT secret FROM credentials WHERE user_id = ? AND provider = ?",
            (user_id, provider),
        )
        if row is None:
            return None
        try:
            parts = json.loads(
                self._box.decrypt(row["secret"], aad=credential_aad(user_id, provider))
            )
        except (DecryptionError, ValueError):
            logger.warning("stored %s credential of user %d does not decrypt", provider, user_id)
            return None
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            logger.warning("stored %s credential of user %d is malformed", provider, user_id)
            return None
        return tuple(parts)

    async def masked(self, user_id: int) -> dict[str, str]:
        """Provider → masked form of each credential the user stored."""
        masked = await self._masked.load(user_id, partial(self._read_masked, user_id))
        return dict(masked or {})

    async def _read_masked(self, user_id: int) -> dict[str, str]:
        rows = await self._db.fetchall(
            "SELECT provider, masked FROM credentials WHERE user_id = ? ORDER BY provider",
            (user_id,),
        )
        return {row["provider"]: row["masked"] for row in rows}

    async def delete(self, user_id: int, provider: str) -> bool:
        """Forget the user's credential for `provider`; False if there was none."""
        deleted = await self._db.execute(
            "DELETE FROM credentials WHERE user_id = ? AND provider = ?", (user_id, provider)
        )
        self._masked.forget(user_id)
        return deleted > 0


def credential_aad(user_id: int, provider: str) -> bytes:
    """What a credential's blob is bound to: its user and provider."""
    return f"cred:{user_id}:{provider}".encode()
