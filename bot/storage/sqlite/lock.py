"""One process per DATA_DIR: a second bot on the same data would resume the same jobs twice."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILENAME = "iris.lock"


class DataDirBusyError(Exception):
    """Another Iris process holds DATA_DIR."""


class DataDirLock:
    """An exclusive advisory lock on DATA_DIR/iris.lock, held until released or the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILENAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise DataDirBusyError naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirBusyError(
                f"another Iris process (pid {holder}) is already using DATA_DIR={self.path.parent}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Let the lock go (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
