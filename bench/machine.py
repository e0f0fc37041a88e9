"""The harness's own process and the machine: CPU used, garbage collection, fixed costs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import sys
import time
from pathlib import Path

from services.images import telegram_photo


def settle_harness() -> None:
    """Collect garbage, then freeze what is left before a run.

    The harness keeps every span of the benchmark: a full collection of that heap in the middle
    of a run stalled the fakes for 100+ ms, and the stall counted as the bot's time.
    """
    gc.collect()
    gc.freeze()


def own_cpu() -> float:
    """User + system CPU seconds of the harness's process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def conversion_ms(image: bytes) -> float:
    """CPU to make `image` fit for sendPhoto once (best of 5)."""
    times = []
    for _ in range(5):
        start = time.process_time()
        telegram_photo(image)
        times.append(time.process_time() - start)
    return 1000 * min(times)


async def aiogram_import_mb() -> float:
    """Peak RSS of a Python process that only imports aiogram."""
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its forking parent's.
    code = (
        "import aiogram, re, pathlib; "
        "print(re.search(r'VmHWM:\\s+(\\d+)', pathlib.Path('/proc/self/status').read_text())[1])"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    return int(out) / 1024


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children: those alive, and those it has reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = _stat_fields(pid)
    total = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += sum(int(v) for v in _stat_fields(int(child))[11:13])
    return total / ticks


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (field 3 on), which may hold spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
