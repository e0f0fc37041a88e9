"""Two Iris applications on one PostgreSQL database, as two processes behind one bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import Application, create_application
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import Iris, iris_running


@asynccontextmanager
async def two_instances(
    serve: Serve, tmp_path: Path, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[Iris, Application]]:
    """The polling bot with its fakes, and a second application on the same database that
    takes no updates unless a test feeds it some."""
    async with iris_running(
        serve, tmp_path, database_url=database_url, keys_secret=TEST_KEYS_SECRET, **overrides
    ) as iris:
        second = await create_application(iris.settings, timing=iris.timing, pacing=iris.pacing)
        try:
            yield iris, second
        finally:
            await second.close()
