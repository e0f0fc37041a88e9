"""Logging setup: human-readable or JSON lines, the job id on job lines, secrets scrubbed."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(job)s%(message)s"
_TRACEBACKS = logging.Formatter()

current_job: ContextVar[int | None] = ContextVar("current_job", default=None)
"""The job a task works on; every log line written meanwhile carries its id."""


@contextmanager
def job_context(job_id: int) -> Iterator[None]:
    """Log lines written inside the block carry `job_id`."""
    token = current_job.set(job_id)
    try:
        yield
    finally:
        current_job.reset(token)


class JobContext(logging.Filter):
    """Adds `job_id` (and `job`, its "[job N] " prefix) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_id = current_job.get()
        record.job_id = job_id
        record.job = f"[job {job_id}] " if job_id is not None else ""
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job_id, error origin."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        job_id = getattr(record, "job_id", None)
        if job_id is not None:
            entry["job_id"] = job_id
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """Replaces any known secret in a record's final text with a marker, as a last defence."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Scrub this value from now on (ignored when too short to be a real secret)."""
        if len(secret) >= 6:
            self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        cleaned = self.scrub(text)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # The formatter uses exc_text when set, so the traceback is scrubbed too.
            record.exc_text = self.scrub(_TRACEBACKS.formatException(record.exc_info))
        return True

    def scrub(self, text: str) -> str:
        """`text` with every known secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def origin(error: BaseException) -> str:
    """Where an exception was raised, as "TypeError at bot/jobs/runner.py:120": no traceback,
    no message (either could carry user data or a secret)."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    if frame is None:
        return type(error).__name__
    path = Path(frame.filename)
    parts = path.parts[-2:] if len(path.parts) >= 2 else path.parts
    return f"{type(error).__name__} at {'/'.join(parts)}:{frame.lineno}"


def setup_logging(
    level: str, *, log_format: Literal["text", "json"] = "text", secrets: Iterable[str] = ()
) -> RedactSecrets:
    """Log to stderr at `level`; returns the redaction filter, which can also scrub printed text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(_FORMAT))
    redact = RedactSecrets(secrets)
    handler.addFilter(JobContext())
    handler.addFilter(redact)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log is noise; aiogram's line per update ("is handled") only at DEBUG:
    # at INFO it was a line per message and a measurable share of the bot's CPU.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiogram.event").setLevel(
        logging.DEBUG if logging.getLevelName(level) <= logging.DEBUG else logging.WARNING
    )
    # aiosqlite logs every SQL parameter at DEBUG; none is a secret today, and none ever will be.
    logging.getLogger("aiosqlite").setLevel(max(logging.getLevelName(level), logging.INFO))
    return redact
