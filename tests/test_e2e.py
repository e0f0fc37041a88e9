"""The real process (`python -m bot`): SIGKILL during a pending job, restart, exactly one create."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from playground.providers.gptunnel import API_KEY, GPTunnelFake
from playground.providers.server import LoopbackServer
from playground.telegram import Chat, FakeBotApi
from tests.conftest import Serve
from tests.harness import ALICE, ROOT, TOKEN, bot_process


async def pending_gptunnel_setup(
    serve: Serve, tmp_path: Path, **extra: str
) -> tuple[FakeBotApi, GPTunnelFake, LoopbackServer, dict[str, str]]:
    """The Bot API and a GPTunnel whose jobs stay pending, and the bot's environment for them."""
    api = FakeBotApi(TOKEN)
    gptunnel = GPTunnelFake(final_status="processing")
    telegram = await serve(api.app())
    provider = await serve(gptunnel.app())
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "GPTUNNEL_URL": provider.url,
        "GPTUNNEL_API_KEY": API_KEY,
        "DATA_DIR": str(tmp_path / "data"),
        **extra,
    }
    return api, gptunnel, provider, env


async def test_sigkill_during_a_pending_job_then_restart_delivers_it_once(
    serve: Serve, tmp_path: Path
) -> None:
    api, gptunnel, provider, env = await pending_gptunnel_setup(
        serve, tmp_path, LOG_LEVEL="DEBUG", LOG_FORMAT="json"
    )
    async with bot_process(env, tmp_path) as first:
        api.send_text(ALICE, Chat.private(ALICE), "/imagine a lighthouse in a storm --ar 16:9")
        await api.wait_for("sendMessage", timeout=30)  # the status message
        await api.wait_until(lambda: any(t.polls > 0 for t in gptunnel.tasks.values()), timeout=30)
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    gptunnel.final_status = "done"
    mark = api.mark()
    async with bot_process(env, tmp_path):
        photo = await api.wait_for("sendPhoto", after=mark, timeout=30)
    assert int(photo.params["chat_id"]) == ALICE.id
    assert "--ar 16:9" in photo.params["caption"]
    assert len(provider.calls("POST", "/v1/media/create")) == 1
    assert len(gptunnel.tasks) == 1
    log = (tmp_path / "bot.log").read_text()
    lines = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
    resumed = [line for line in lines if line["message"].startswith("resuming")]
    assert resumed[0]["job_id"] == 1
    assert TOKEN not in log
    assert API_KEY not in log
    assert "Traceback" not in log


async def test_sigterm_during_a_pending_job_stops_quickly_and_the_restart_delivers(
    serve: Serve, tmp_path: Path
) -> None:
    api, gptunnel, provider, env = await pending_gptunnel_setup(serve, tmp_path)
    async with bot_process(env, tmp_path) as first:
        api.send_text(ALICE, Chat.private(ALICE), "/imagine a windmill")
        await api.wait_until(lambda: any(t.polls > 0 for t in gptunnel.tasks.values()), timeout=30)
        # A second process on the same DATA_DIR refuses to start, saying why in one line.
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, refusal = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 2
        assert refusal.decode().strip().startswith("iris: another Iris process (pid")
        first.send_signal(signal.SIGTERM)
        # Graceful: well within the 10 s an operator's service manager would wait.
        assert await asyncio.wait_for(first.wait(), 10) == 0
    gptunnel.final_status = "done"
    mark = api.mark()
    async with bot_process(env, tmp_path):
        await api.wait_for("sendPhoto", after=mark, timeout=30)
    assert len(provider.calls("POST", "/v1/media/create")) == 1
