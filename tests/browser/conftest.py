"""A headless system Chromium driven by Playwright, and a playground in demo mode to open in it.

The browser and the playgrounds run in the session's event loop (one browser per test worker);
every other test keeps its own loop."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium per test worker."""
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no system chromium (apt-get install chromium) for the browser tests")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, tmp_path: Path) -> AsyncIterator[Page]:
    """The web chat of a fresh demo playground, as `python -m bot playground --demo` serves it
    (on a free port), loaded and listening for changes."""
    settings = load_settings(
        _env_file=None, bot_token="100000000:" + "x" * 35, data_dir=tmp_path / "data"
    )
    playground = Playground(settings, demo=True, timing=QUICK)
    url = await playground.start(0)
    context = await browser.new_context(viewport={"width": 1100, "height": 760})
    try:
        opened = await context.new_page()
        opened.set_default_timeout(15_000)
        await opened.goto(url)
        await opened.wait_for_selector("body[data-ready='1']")
        yield opened
    finally:
        await context.close()
        await playground.stop()
    assert playground.api.errors == []


async def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows now under SCREENSHOTS_DIR (default .screenshots/; Playwright
    makes the folder)."""
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
