"""Everything the bot keeps: one SQLite database and the key that encrypts its secrets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.crypto import SecretBox, load_or_create_key
from bot.storage.credentials import Credentials
from bot.storage.credits import Credits
from bot.storage.db import DB_FILENAME, Database
from bot.storage.jobs import Jobs
from bot.storage.quota import SqliteQuotaStore
from bot.storage.tokens import SqliteSessionTokenStore
from bot.storage.users import Users


@dataclass(frozen=True, slots=True)
class Storage:
    """The database and one repository per table."""

    db: Database
    users: Users
    credentials: Credentials
    tokens: SqliteSessionTokenStore
    quota: SqliteQuotaStore
    jobs: Jobs
    credits: Credits

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()


async def open_storage(*, data_dir: Path, keys_secret: str | None) -> Storage:
    """Load (or create) the key and open `data_dir/iris.db`, migrated to the latest schema."""
    key = await asyncio.to_thread(load_or_create_key, keys_secret=keys_secret, data_dir=data_dir)
    box = SecretBox(key)
    db = await Database.open(data_dir / DB_FILENAME)
    return Storage(
        db=db,
        users=Users(db),
        credentials=Credentials(db, box),
        tokens=SqliteSessionTokenStore(db, box),
        quota=SqliteQuotaStore(db),
        jobs=Jobs(db),
        credits=Credits(db),
    )
