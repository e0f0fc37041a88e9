"""The real process: `python -m bot playground` and `make run` without a token serve the web
chat, with Iris answering in demo mode; its data stays in DATA_DIR/playground/."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp

from tests.test_bot_operations import free_port
from tests.test_main import ROOT, clean_env

URL = re.compile(r"open (http://127\.0\.0\.1:\d+)")


@contextlib.asynccontextmanager
async def serving(
    command: Sequence[str], cwd: Path, env: dict[str, str], *, status: int | None = 0
) -> AsyncIterator[str]:
    """The process until the block ends (then SIGTERM, which must end it with `status` unless
    None); the web chat's URL it printed."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    try:
        printed = b""
        while (found := URL.search(printed.decode(errors="replace"))) is None:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, f"the playground ended without printing its URL: {printed!r}"
            printed += line
        yield found.group(1)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
        ended = await asyncio.wait_for(process.wait(), 30)
        assert status is None or ended == status


async def imagine_in_demo(url: str) -> str:
    """Send /imagine from the web chat's private chat; the caption of the picture that comes."""
    async with aiohttp.ClientSession() as http:
        setup = await (await http.get(f"{url}/api/setup")).json()
        private = setup["chats"][0]
        form = aiohttp.FormData()
        form.add_field("chat", str(private["id"]))
        form.add_field("user", str(private["members"][0]["id"]))
        form.add_field("text", "/imagine a lighthouse")
        assert (await http.post(f"{url}/api/send", data=form)).status == 200
        async with http.get(f"{url}/api/events") as events:
            async for line in events.content:
                if b'"photo": {' in line and b'"from": {"id": 4242' in line:
                    return line.decode()
    raise AssertionError("the event stream ended without a picture")


async def test_playground_command_serves_the_web_chat_with_a_demo(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(
        DATA_DIR=str(tmp_path / "data"),
        PLAYGROUND_PORT=str(port),
        # A real bot's shared database: the playground never uses it.
        DATABASE_URL="postgresql://iris:secret@127.0.0.1:9/iris",
        KEYS_SECRET=base64.b64encode(bytes(32)).decode(),
    )
    async with serving([sys.executable, "-m", "bot", "playground"], tmp_path, env) as url:
        assert url == f"http://127.0.0.1:{port}"
        event = await asyncio.wait_for(imagine_in_demo(url), 60)
        assert "a lighthouse" in event
    assert (tmp_path / "data" / "playground" / "iris.db").exists()
    assert not (tmp_path / "data" / "iris.db").exists()


async def test_make_run_without_a_token_starts_the_playground(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / ".env").write_text("BOT_TOKEN=\n")
    env = clean_env(DATA_DIR=str(tmp_path / "data"), PLAYGROUND_PORT=str(free_port()))
    # -o: the .venv is installed already, never reinstalled here. make itself ends by SIGTERM.
    command = ["make", "--no-print-directory", "-o", ".venv/.installed-run", "run"]
    async with (
        serving(command, tmp_path, env, status=None) as url,
        aiohttp.ClientSession() as http,
    ):
        assert (await http.get(url)).status == 200


async def test_a_taken_port_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(DATA_DIR=str(tmp_path / "data"), PLAYGROUND_PORT=str(port))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "playground", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"iris: cannot serve the playground on 127.0.0.1:{port} (")
    assert "address already in use" in lines[0]
    assert lines[0].endswith("set PLAYGROUND_PORT to a free port")
