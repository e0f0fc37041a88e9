"""The real process: `python -m bot` refuses bad settings in one line, and starts polling."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from playground.telegram import FakeBotApi
from tests.conftest import Serve
from tests.harness import TOKEN

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh machine: no bot settings, the project importable."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {**keep, "PYTHONPATH": str(ROOT), **extra}


async def run_bot(cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_no_token_exits_with_one_line(tmp_path: Path) -> None:
    code, stderr = await run_bot(tmp_path, clean_env())
    assert code == 2
    lines = stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("iris: BOT_TOKEN is not set")
    assert "python -m bot playground" in lines[0]
    assert "Traceback" not in stderr


async def test_malformed_token_exits_with_one_line(tmp_path: Path) -> None:
    code, stderr = await run_bot(tmp_path, clean_env(BOT_TOKEN="oops"))
    assert code == 2
    assert stderr.strip() == (
        "iris: BOT_TOKEN is malformed; "
        "expected the token @BotFather gave you, like 123456789:AAE..."
    )


async def test_starts_polling_and_stops_on_sigterm(tmp_path: Path, serve: Serve) -> None:
    api = FakeBotApi(TOKEN)
    server = await serve(api.app())
    env = clean_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.url, DATA_DIR=str(tmp_path / "data"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await asyncio.wait_for(api.polled.wait(), timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, stderr.decode()
    assert api.called("getMe") and api.called("getUpdates")
    assert TOKEN not in stderr.decode()
    assert "long-lived objects kept out of garbage collection" in stderr.decode()
