"""The child side of the stats channel: a bot process reports its own CPU, memory and counters."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

Extra = Callable[[], dict[str, int]]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK = "5"
"""Written to clear_refs, resets VmHWM (peak RSS) to the current RSS (Linux 4.0+)."""


def _status_kb(name: str) -> int:
    found = re.search(rf"^{name}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    return int(found.group(1)) if found else 0


def snapshot(extra: Extra) -> dict[str, float]:
    """CPU seconds so far (all threads), RSS and peak RSS in KiB, and the bot's own counters."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_kb": _status_kb("VmRSS"),
        "hwm_kb": _status_kb("VmHWM"),
        **extra(),
    }


def reset_peak() -> None:
    """Set VmHWM back to the current RSS, so the next peak is one run's."""
    _CLEAR_REFS.write_text(_RESET_PEAK)


async def answer_stats(extra: Extra, *, on_eof: Callable[[], Awaitable[None]]) -> None:
    """Answer each `stats` or `reset` line on stdin with one JSON line; call `on_eof` at EOF.

    `reset` first resets the peak RSS.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).strip():
        if line == b"reset":
            reset_peak()
        sys.stdout.write(json.dumps(snapshot(extra)) + "\n")
        sys.stdout.flush()
    await on_eof()
