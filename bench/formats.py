"""How figures are written in the results: numbers, verdicts, the machine and the commit."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from pathlib import Path


def ms(value: float | None) -> str:
    """A figure with one decimal; – for one not measured."""
    return "–" if value is None or math.isnan(value) else f"{value:.1f}"


def optional(value: float | None) -> str:
    """A figure with two decimals; – for one not measured."""
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def mark(passed: bool | None) -> str:
    """A verdict as the tables show it."""
    return {True: "✅ met", False: "❌ missed", None: "– not measured"}[passed]


def machine() -> str:
    """Cores and Python version."""
    return f"{os.cpu_count()} cores, Python {platform.python_version()}"


def commit() -> str:
    """The short hash of the checked-out commit."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - read-only, any git
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()
