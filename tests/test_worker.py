"""`python -m bot worker`: a process that runs the bot's jobs on PostgreSQL and takes no updates."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from playground.telegram import Chat
from tests.conftest import TEST_KEYS_SECRET, Serve
from tests.harness import ALICE, bot_process
from tests.test_e2e import pending_gptunnel_setup


async def test_a_worker_resumes_the_job_of_a_killed_polling_instance_and_takes_no_updates(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    api, gptunnel, provider, env = await pending_gptunnel_setup(
        serve, tmp_path, DATABASE_URL=postgres_url, KEYS_SECRET=TEST_KEYS_SECRET, JOB_LEASE="1"
    )
    async with bot_process(env, tmp_path) as poller, bot_process(env, tmp_path, "worker"):
        api.send_text(ALICE, Chat.private(ALICE), "/imagine a harbour at dawn")
        await api.wait_until(lambda: any(t.polls > 0 for t in gptunnel.tasks.values()), timeout=30)
        poller.send_signal(signal.SIGKILL)
        assert await poller.wait() == -signal.SIGKILL
        mark = api.mark()
        gptunnel.final_status = "done"
        photo = await api.wait_for("sendPhoto", after=mark, timeout=30)
        assert int(photo.params["chat_id"]) == ALICE.id
        taken = {"getUpdates", "setWebhook", "deleteWebhook", "setMyCommands"}
        assert not [call.method for call in api.calls[mark:] if call.method in taken]
    assert len(provider.calls("POST", "/v1/media/create")) == 1
    assert len(api.calls_of("sendPhoto")) == 1
    log = (tmp_path / "bot.log").read_text()
    assert "worker running jobs" in log
    assert "Traceback" not in log


async def test_a_worker_without_postgresql_exits_with_one_line(tmp_path: Path) -> None:
    env = {"BOT_TOKEN": "4242:AAE_test-token-that-is-long-enough-123456", "PATH": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker", cwd=tmp_path, env={**env, "DATA_DIR": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().splitlines() == [
        "iris: a worker shares the jobs of a bot on PostgreSQL: set DATABASE_URL (with SQLite,"
        " one process runs everything)"
    ]
