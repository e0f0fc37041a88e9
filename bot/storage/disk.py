"""Results kept as files in one folder (DATA_DIR/results): one machine, one disk."""

from __future__ import annotations

import asyncio
import os
from contextlib import suppress
from pathlib import Path

from bot.storage.results import EXTENSIONS, result_name

_PARTIAL = ".part"
_SUFFIXES = (*EXTENSIONS.values(), "bin")
"""Every extension result_name gives: a job's file is found by a few stats, never a listing of
a folder that holds a week of results."""


class DiskResults:
    """A `ResultStore` of files named `{job_id}.{extension}`, dated by their mtime."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    async def put(self, job_id: int, data: bytes, *, mime_type: str, now: float) -> None:
        """Write the file whole or not at all, then drop the job's file of another type."""
        await asyncio.to_thread(_write, self._folder, job_id, mime_type, data, now)

    async def get(self, job_id: int) -> bytes | None:
        """The bytes of the job's file, or None."""
        return await asyncio.to_thread(_read, self._folder, job_id)

    async def exists(self, job_id: int) -> bool:
        """True when the job's file is there."""
        return await asyncio.to_thread(_kept, self._folder, job_id) is not None

    async def prune(self, *, before: float) -> int:
        """Delete the files (half-written ones too) last written before `before`."""
        return await asyncio.to_thread(_prune, self._folder, before)


def _kept(folder: Path, job_id: int) -> Path | None:
    """The job's file; `put` leaves at most one, so the first found is the one."""
    return next((path for path in _names(folder, job_id) if path.is_file()), None)


def _names(folder: Path, job_id: int) -> list[Path]:
    return [folder / f"{job_id}.{suffix}" for suffix in _SUFFIXES]


def _read(folder: Path, job_id: int) -> bytes | None:
    path = _kept(folder, job_id)
    if path is not None:
        with suppress(FileNotFoundError):  # pruned meanwhile
            return path.read_bytes()
    return None


def _write(folder: Path, job_id: int, mime_type: str, data: bytes, now: float) -> None:
    path = folder / result_name(job_id, mime_type)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + _PARTIAL)
    partial.write_bytes(data)
    os.utime(partial, (now, now))
    partial.replace(path)  # a crash never leaves a half-written result behind
    for other in _names(folder, job_id):
        if other != path:
            other.unlink(missing_ok=True)


def _prune(folder: Path, cutoff: float) -> int:
    removed = 0
    for path in folder.glob("*") if folder.is_dir() else ():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
