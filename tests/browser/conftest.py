"""A headless system Chromium driven by Playwright, and a playground in demo mode to open in it."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bot.config import load_settings
from bot.jobs.timing import Timing
from playground.session import Playground

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR", ROOT / ".screenshots"))
QUICK = Timing(poll_delays=(0.2,), poll_max=0.2, progress_every=1.0, action_every=1.0)
"""Production timing logic with short polls, so a demo picture comes in about half a second."""


def chromium() -> str | None:
    """The system Chromium (Playwright cannot download its own here)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class PlaygroundThread:
    """A demo playground served from its own thread and event loop, as `python -m bot
    playground --demo` serves it, on a free port."""

    def __init__(self, data_dir: Path) -> None:
        settings = load_settings(
            _env_file=None, bot_token="100000000:" + "x" * 35, data_dir=data_dir
        )
        self.playground = Playground(settings, demo=True, timing=QUICK)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.playground.start(0), self._loop).result(60)

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.playground.stop(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test worker."""
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no system chromium (apt-get install chromium) for the browser tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """The web chat of a fresh demo playground, loaded and listening for changes."""
    running = PlaygroundThread(tmp_path / "data")
    with running as url:
        context = browser.new_context(viewport={"width": 1100, "height": 760})
        opened = context.new_page()
        opened.set_default_timeout(15_000)
        opened.goto(url)
        opened.wait_for_selector("body[data-ready='1']")
        yield opened
        context.close()
        assert running.playground.api.errors == []


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows now under SCREENSHOTS_DIR (default .screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
