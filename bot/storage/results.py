"""Untouched result images kept for the 📎 original file button, whichever backend keeps them."""

from __future__ import annotations

from typing import Protocol

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def result_name(job_id: int, mime_type: str) -> str:
    """The file name a job's result goes by: on disk, and for the document the user receives."""
    return f"{job_id}.{EXTENSIONS.get(mime_type, 'bin')}"


class ResultStore(Protocol):
    """Keeps each job's untouched result bytes by job id."""

    async def put(self, job_id: int, data: bytes, *, mime_type: str, now: float) -> None:
        """Keep a job's result, kept at `now`, replacing any it had."""

    async def get(self, job_id: int) -> bytes | None:
        """A job's kept result, or None."""

    async def exists(self, job_id: int) -> bool:
        """True when a job's result is kept."""

    async def prune(self, *, before: float) -> int:
        """Drop the results kept before `before`; how many."""
