"""`python -m bot migrate-to-postgres`: an SQLite install's durable data, copied once into an
empty PostgreSQL database."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import SHARED_KEY_REQUIRED, Settings, SettingsError, decode_key, load_settings
from bot.crypto import KEY_FILENAME, DecryptionError, KeyFileError, SecretBox, load_or_create_key
from bot.jobs.files import RESULT_RETENTION
from bot.logs import origin, setup_logging
from bot.providers import log_secrets
from bot.storage import DATABASE_ERRORS
from bot.storage.interfaces import SchemaTooNewError
from bot.storage.postgres.db import describe
from bot.storage.postgres.from_sqlite import TargetNotEmptyError, copy_into
from bot.storage.sql.credentials import credential_aad
from bot.storage.sql.tokens import token_aad
from bot.storage.sqlite.db import DB_FILENAME, SqliteDatabase
from bot.storage.sqlite.lock import DataDirBusyError, DataDirLock

MARKER_FILENAME = "migrated-to-postgres"
"""Written in DATA_DIR once the copy is committed: a second run is refused."""


class MoveRefusedError(Exception):
    """Something the operator must change before the data can move; said in one line."""


def main() -> int:
    """Load the settings, move the data, print one line per table; 2 when refused."""
    try:
        settings = load_settings()
    except SettingsError as e:
        for line in _settings_lines(e.lines):
            print(f"iris: {line}", file=sys.stderr)
        return 2
    redact = setup_logging("WARNING", log_format=settings.log_format, secrets=log_secrets(settings))
    try:
        lines = asyncio.run(move(settings))
    except (MoveRefusedError, KeyFileError, SchemaTooNewError) as e:
        print(f"iris: {redact.scrub(str(e))}", file=sys.stderr)
        return 2
    except DATABASE_ERRORS as e:
        reason = str(e) or type(e).__name__  # a timeout says nothing else
        print(f"iris: the data did not move: {redact.scrub(reason)}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the last resort: type and place, never a traceback
        print(f"iris: stopped by an unexpected error: {origin(e)}", file=sys.stderr)
        return 1
    for line in lines:
        print(redact.scrub(line))
    return 0


async def move(settings: Settings, *, now: float | None = None) -> list[str]:
    """Copy DATA_DIR's SQLite database into DATABASE_URL; one line per table copied.

    Holds DATA_DIR's lock throughout, so no bot runs on the data while it moves.
    """
    started = datetime.now(UTC).timestamp() if now is None else now
    if settings.database_url is None:
        raise MoveRefusedError("DATABASE_URL is not set: set it to the empty PostgreSQL database")
    url = settings.database_url.get_secret_value()
    data_dir = settings.data_dir
    source = data_dir / DB_FILENAME
    if not source.is_file():
        raise MoveRefusedError(f"there is no SQLite database at {source}: check DATA_DIR")
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except DataDirBusyError as e:
        raise MoveRefusedError(f"{e}: stop the bot before moving its data") from None
    try:
        marker = data_dir / MARKER_FILENAME
        if marker.exists():
            raise MoveRefusedError(
                f"this install was moved to PostgreSQL already ({marker}); delete that file "
                "only to copy it again into an empty database"
            )
        sqlite = await SqliteDatabase.open(source)
        try:
            await check_key(sqlite, settings)
            try:
                counts = await copy_into(
                    url,
                    sqlite,
                    results_dir=data_dir / "results",
                    results_since=started - RESULT_RETENTION,
                )
            except TargetNotEmptyError as e:
                raise MoveRefusedError(
                    f"{describe(url)} already holds {e.table}: the data moves into an empty "
                    "database only"
                ) from None
        finally:
            await sqlite.close()
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        await asyncio.to_thread(marker.write_text, f"moved to {describe(url)} at {stamp}\n")
    finally:
        lock.release()
    return [f"{table}: {count}" for table, count in counts.items()] + [
        f"copied into {describe(url)}; start the instances with this DATABASE_URL and KEYS_SECRET"
    ]


async def check_key(sqlite: SqliteDatabase, settings: Settings) -> None:
    """Refuse unless KEYS_SECRET opens the stored credentials and tokens, which are copied as
    they are."""
    if settings.keys_secret is None:  # load_settings requires it with DATABASE_URL
        raise MoveRefusedError(SHARED_KEY_REQUIRED)
    key = decode_key(settings.keys_secret.get_secret_value())
    stored = await _stored_secret(sqlite)
    if stored is not None and _opens(SecretBox(key), *stored):
        return
    key_file = settings.data_dir / KEY_FILENAME
    if key_file.exists():
        file_key = await asyncio.to_thread(
            load_or_create_key, keys_secret=None, data_dir=settings.data_dir
        )
        if file_key != key:
            raise MoveRefusedError(_use_key_file(key_file, differs=True))
    if stored is not None:
        raise MoveRefusedError("KEYS_SECRET does not open the stored keys")


def _opens(box: SecretBox, blob: bytes, aad: bytes) -> bool:
    """True when the blob decrypts with `box`."""
    try:
        box.decrypt(blob, aad=aad)
    except DecryptionError:
        return False
    return True


async def _stored_secret(sqlite: SqliteDatabase) -> tuple[bytes, bytes] | None:
    """One stored credential's (or else session token's) blob and what it is bound to."""
    row = await sqlite.fetchone("SELECT user_id, provider, secret FROM credentials LIMIT 1")
    if row is not None:
        return bytes(row["secret"]), credential_aad(row["user_id"], row["provider"])
    row = await sqlite.fetchone("SELECT key, token FROM session_tokens LIMIT 1")
    if row is not None:
        return bytes(row["token"]), token_aad(row["key"])
    return None


def _use_key_file(key_file: Path, *, differs: bool) -> str:
    """Where the key is and how to read it, never the key itself."""
    problem = "is not the key in" if differs else "is not set: set it to the key in"
    return (
        f"KEYS_SECRET {problem} {key_file}, which encrypts the stored keys"
        f"{': set KEYS_SECRET to it' if differs else ''} (read it with: cat {key_file})"
    )


def _settings_lines(lines: list[str]) -> list[str]:
    """The settings' problems; a missing KEYS_SECRET points at the key file in DATA_DIR."""
    if SHARED_KEY_REQUIRED not in lines:
        return lines
    try:
        data_dir = load_settings(database_url=None).data_dir
    except SettingsError:
        return lines
    key_file = data_dir / KEY_FILENAME
    if not key_file.exists():
        return lines
    hint = _use_key_file(key_file, differs=False)
    return [hint if line == SHARED_KEY_REQUIRED else line for line in lines]
