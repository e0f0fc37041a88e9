"""Restarts: polling jobs resume and deliver; a paid call cut off is reported, never re-sent."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bot.storage.jobs import JobKind, JobState, NewJob
from playground.providers.gptunnel import hang
from tests.conftest import Serve
from tests.harness import ALICE, GPTUNNEL_KEY, Iris, creates, iris_running, open_storage_of


async def stop_during_a_paid_call(iris: Iris) -> None:
    """Stop Iris while GPTunnel has the create of Alice's job and never answers it."""
    iris.gptunnel.create_outcomes.append(hang())
    await iris.say(ALICE, "/imagine a glacier")
    await iris.api.wait_until(lambda: creates(iris) == 1)
    await iris.stop()


async def test_polling_job_resumes_after_restart_with_one_create(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine a harbour at night")
        await iris.api.wait_until(lambda: any(t.polls > 0 for t in iris.gptunnel.tasks.values()))
        await iris.stop()
        iris.gptunnel.final_status = "done"
        mark = iris.api.mark()
        await iris.start()
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        assert int(photo.params["chat_id"]) == ALICE.id
        assert creates(iris) == 1
        await iris.settled()
        assert (await iris.job(1)).state == "done"


async def test_paid_call_in_flight_at_stop_is_interrupted_with_retry(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await stop_during_a_paid_call(iris)
        mark = iris.api.mark()
        await iris.start()
        notice = await iris.api.wait_for("editMessageText", after=mark)
        assert "interrupted" in notice.params["text"]
        assert (await iris.job(1)).state == "interrupted"
        assert creates(iris) == 1  # nothing is sent again on its own
        status = iris.api.message(ALICE.id, int(notice.params["message_id"]))
        retry = status.buttons[0]
        assert retry.text == "🔁 Retry"
        assert retry.callback_data is not None
        mark = iris.api.mark()
        iris.api.press(ALICE, status, retry.callback_data)
        await iris.api.wait_for("sendPhoto", after=mark)
        assert creates(iris) == 2
        # A second press of the same Retry button starts nothing more.
        query = iris.api.press(ALICE, status, retry.callback_data)
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        assert creates(iris) == 2
        assert (await iris.job(1)).state == "cancelled"


async def test_an_interrupted_notice_telegram_never_took_is_sent_at_the_next_start(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await stop_during_a_paid_call(iris)
        # Telegram takes the notice's call and never answers; the process stops meanwhile.
        held = iris.api.hold_next("editMessageText")
        mark = iris.api.mark()
        await iris.start()
        await iris.api.wait_for("editMessageText", after=mark)
        await iris.stop()
        held.set()
        storage = await open_storage_of(iris.settings)
        job = await storage.jobs.get(1)
        await storage.close()
        assert job is not None
        assert (job.state, job.result_message_id) == ("interrupted", None)

        mark = iris.api.mark()
        await iris.start()
        notice = await iris.api.wait_for("editMessageText", after=mark)
        assert "interrupted" in notice.params["text"]
        await iris.settled()
        told = await iris.job(1)
        assert told.result_message_id == int(notice.params["message_id"])
        assert creates(iris) == 1

        # Told once: another start says nothing more.
        mark = iris.api.mark()
        await iris.restart()
        await iris.settled()
        assert not [c for c in iris.api.calls[mark:] if c.method.startswith(("send", "edit"))]


async def test_job_cut_off_while_delivering_is_delivered_from_the_kept_file(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await iris.say(ALICE, "/start")
        await iris.api.wait_for("sendMessage")
        await iris.stop()
        # The state a crash between "result kept" and "photo sent" leaves behind.
        storage = await open_storage_of(iris.settings)
        job = await storage.jobs.create(
            NewJob(
                kind=JobKind.GENERATE, provider="gptunnel", user_id=ALICE.id, chat_id=ALICE.id,
                chat_type="private", prompt="a meadow", options={"ar": "1:1"},
                credential_source="operator", language="en",
            ),
            now=time.time(),
        )  # fmt: skip
        await storage.results.put(
            job.id, iris.gptunnel.image, mime_type="image/webp", now=time.time()
        )
        jobs, now = storage.jobs, time.time()
        assert await jobs.transition(job.id, to=JobState.SUBMITTING, now=now)
        assert await jobs.transition(job.id, to=JobState.POLLING, now=now, task_id="0" * 24)
        assert await jobs.transition(
            job.id,
            to=JobState.DELIVERING,
            now=now,
            result_path=f"{job.id}.webp",
            result_mime="image/webp",
        )
        await storage.close()
        mark = iris.api.mark()
        await iris.start()
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        assert int(photo.params["chat_id"]) == ALICE.id
        await iris.settled()
        assert (await iris.job(job.id)).state == "done"
        assert len(iris.servers["gptunnel"].requests) == 0  # nothing asked of the provider


async def test_a_request_delivered_twice_starts_one_job(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    # Telegram re-sends the updates a crashed process had not confirmed yet.
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        request = NewJob(
            kind=JobKind.GENERATE, provider="gptunnel", user_id=ALICE.id, chat_id=ALICE.id,
            chat_type="private", request_message_id=77, prompt="twice", options={"ar": "1:1"},
            credential_source="operator", language="en",
        )  # fmt: skip
        await iris.say(ALICE, "/start")  # the private chat exists for the fake from now on
        first = await iris.app.runner.enqueue(request)
        second = await iris.app.runner.enqueue(request)
        assert first is not None
        assert second is not None
        assert second.id == first.id
        await iris.api.wait_until(lambda: iris.api.called("sendPhoto"))
        assert creates(iris) == 1
        assert len(iris.api.calls_of("sendPhoto")) == 1


async def test_old_results_are_pruned_at_start(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await iris.say(ALICE, "/imagine a dune")
        await iris.api.wait_until(lambda: iris.api.called("sendPhoto"))
        await iris.stop()
        storage = await open_storage_of(iris.settings)
        eight_days_ago = time.time() - 8 * 24 * 3600
        await storage.results.put(999, b"x", mime_type="image/webp", now=eight_days_ago)
        await storage.close()
        await iris.start()
        results = iris.app.storage.results
        assert await results.exists(1)
        assert not await results.exists(999)


async def test_graceful_stop_lets_a_paid_call_record_its_task_id(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.create_gate = asyncio.Event()
        await iris.say(ALICE, "/imagine a canyon")
        await iris.api.wait_until(lambda: creates(iris) == 1)
        runner = iris.app.runner
        stopping = asyncio.create_task(iris.stop())
        # The provider answers while the bot is stopping: the task id is recorded all the same.
        await iris.api.wait_until(lambda: runner.stopping)
        iris.gptunnel.create_gate.set()
        await asyncio.wait_for(stopping, 10)
        mark = iris.api.mark()
        await iris.start()
        await iris.api.wait_for("sendPhoto", after=mark)
        assert creates(iris) == 1
        assert not any("interrupted" in str(c.params.get("text")) for c in iris.api.calls)
