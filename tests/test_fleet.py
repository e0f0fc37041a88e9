"""Several real processes on one PostgreSQL behind one webhook: a job outlives the instance that
ran it, delivered once and created once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from playground.telegram import Chat
from tests.conftest import Serve
from tests.harness import ALICE
from tests.webhook_fleet import Fleet, fleet_running

PROMPT = "/imagine a lighthouse in a storm"


async def _pending_job(fleet: Fleet) -> int:
    """Alice's /imagine, running and polled on the instance the spreader gave it to: which."""
    fleet.api.send_text(ALICE, Chat.private(ALICE), PROMPT)
    await fleet.api.wait_for("sendMessage", timeout=30)  # the job's status message
    await fleet.api.wait_until(
        lambda: any(t.polls > 0 for t in fleet.gptunnel.tasks.values()), timeout=30
    )
    return fleet.spreader.taker(PROMPT)


async def _delivered_once(fleet: Fleet, *, timeout: float) -> None:
    """The result reaches Alice once, from one create; the job is done."""
    photo = await fleet.api.wait_for("sendPhoto", timeout=timeout)
    assert int(photo.params["chat_id"]) == ALICE.id
    assert "a lighthouse in a storm" in photo.params["caption"]
    await fleet.api.wait_for("deleteMessage", timeout=timeout)  # the status: done by then
    assert await fleet.job_states() == ["done"]
    assert len(fleet.api.calls_of("sendPhoto")) == 1
    assert fleet.creates() == 1
    assert len(fleet.gptunnel.tasks) == 1


async def _answered_by_the_others(fleet: Fleet, gone: int) -> None:
    """Updates after an instance is gone are all answered, none by it."""
    for _ in fleet.processes:  # one round at least meets the gone instance's turn
        mark = fleet.api.mark()
        fleet.api.send_text(ALICE, Chat.private(ALICE), "/help")
        await fleet.api.wait_for(
            "sendMessage", where=lambda c: int(c.params["chat_id"]) == ALICE.id, after=mark
        )
    assert gone in fleet.spreader.skipped
    assert gone not in [i for i, u in fleet.spreader.taken if u["message"]["text"] == "/help"]


async def test_a_job_of_a_killed_instance_finishes_on_another_once(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    async with fleet_running(serve, tmp_path, postgres_url, job_lease=2) as fleet:
        runner = await _pending_job(fleet)
        assert await fleet.stop(runner, signal.SIGKILL) == -signal.SIGKILL
        fleet.gptunnel.final_status = "done"
        await _delivered_once(fleet, timeout=30)
        await _answered_by_the_others(fleet, runner)
        resumed = [i for i in range(len(fleet.processes)) if "resuming" in fleet.log(i)]
        assert len(resumed) == 1
        assert resumed != [runner]
    for i in range(len(fleet.processes)):
        assert "Traceback" not in fleet.log(i)


async def test_a_job_let_go_at_a_graceful_stop_is_resumed_elsewhere_at_once(
    serve: Serve, tmp_path: Path, postgres_url: str
) -> None:
    lease = 60.0  # no test waits this long: only letting go at the stop explains a hand-over
    async with fleet_running(serve, tmp_path, postgres_url, job_lease=lease) as fleet:
        runner = await _pending_job(fleet)
        stopped = time.monotonic()
        assert await fleet.stop(runner, signal.SIGTERM) == 0
        fleet.gptunnel.final_status = "done"
        await _delivered_once(fleet, timeout=lease / 3)
        assert time.monotonic() - stopped < lease / 3
        assert "let go of 1 jobs" in fleet.log(runner)
        await _answered_by_the_others(fleet, runner)
