"""Progress while a job runs, polls timed by what earlier jobs took, and generation with
CodexAeternum and AiLuna.

Telegram's faults (flood control, vanished messages, blocks) are in tests/test_faults.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs import notifier
from bot.jobs.timing import Timing
from playground.providers.ailuna import KEY_ALICE
from playground.telegram import User
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import ALICE, BOB, CODEX_EMAIL, CODEX_SECRET, GPTUNNEL_KEY, iris_running

CAROL = User(id=1003, first_name="Carol", language_code="en")

QUIET_POLLS = Timing(poll_delays=(0.04,), poll_max=0.04, progress_every=60, action_every=60)
"""Polls a step apart are easy to count against a provider taking most of a second."""


async def test_status_shows_elapsed_time_and_cancel_while_running(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a comet")
        edit = await iris.api.wait_for("editMessageText", after=mark)
        assert "Generating with GPTunnel… " in edit.params["text"]
        assert edit.params["text"].endswith(" s")
        keyboard = edit.params["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["text"] == "✖️ Cancel"
        await iris.api.wait_until(lambda: len(iris.api.chat_actions(ALICE.id)) >= 2)
        iris.gptunnel.final_status = "done"
        await iris.api.wait_for("sendPhoto", after=mark)


async def test_codexaeternum_generation(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        iris.codex.image = photo_bytes(fmt="PNG")
        iris.codex.pending_polls = 2
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine an owl --provider codexaeternum")
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        upload = photo.file("photo")
        assert upload is not None
        assert upload.data == iris.codex.image  # a PNG Telegram takes as it is
        assert "CodexAeternum" in photo.params["caption"]


async def test_ailuna_generation_sends_resolution_and_name(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        iris.ailuna.pending_shows = 2
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        mark = iris.api.mark()
        prompt = "a very long prompt about a fox " * 4
        await iris.say(ALICE, f"/imagine {prompt} --provider ailuna --style anime --res 512x512")
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        upload = photo.file("photo")
        assert upload is not None
        assert upload.data == iris.ailuna.png
        [image] = iris.ailuna.images.values()
        assert image.resolution == "512x512"
        assert image.style == "anime"
        assert len(image.name) <= 60
        assert image.description == " ".join(prompt.split())


async def test_results_are_converted_and_sent_a_few_at_a_time(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier, "PHOTO_UPLOADS", 2)
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        held = [iris.api.hold_next("sendPhoto"), iris.api.hold_next("sendPhoto")]
        for user in (ALICE, BOB, CAROL):
            await iris.say(user, f"/imagine a lantern for {user.first_name}")
        # Two uploads in flight; the third result is kept and waits for a slot.
        await iris.api.wait_until(
            lambda: (
                iris.app.runner.uploads_waiting == 1 and len(iris.api.calls_of("sendPhoto")) == 2
            )
        )
        held[0].set()
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 3)
        assert iris.app.runner.uploads_waiting == 0
        held[1].set()
        await iris.settled()
        assert [(await iris.job(n)).state for n in (1, 2, 3)] == ["done"] * 3


async def test_a_provider_is_polled_around_the_time_its_jobs_took(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(
        serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, timing=QUIET_POLLS
    ) as iris:
        iris.gptunnel.progress = ()
        iris.gptunnel.ready_after = 0.8

        async def polls_of_a_job(prompt: str) -> int:
            mark = iris.api.mark()
            await iris.say(ALICE, f"/imagine {prompt}")
            await iris.api.wait_for("sendPhoto", after=mark)
            await iris.settled()
            assert await iris.app.storage.jobs.active_for_user(ALICE.id) == []
            return list(iris.gptunnel.tasks.values())[-1].polls

        # No history: a poll every step until the result (0.8 s / 0.04 s, fewer on a busy box).
        assert await polls_of_a_job("a first kite") >= 8
        taught = await iris.app.storage.jobs.recent_durations("gptunnel", limit=5)
        assert len(taught) == 1 and taught[0] >= 0.8
        # Then one early look, and polls a step apart only close to the time it took.
        assert await polls_of_a_job("a second kite") <= 5
        await iris.restart()
        assert await polls_of_a_job("a third kite") <= 5
