"""Telegram misbehaving and the other generators: progress, flood control, vanished messages."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Serve
from tests.fakes.ailuna import KEY_ALICE
from tests.harness import (
    ALICE,
    CODEX_EMAIL,
    CODEX_SECRET,
    GPTUNNEL_KEY,
    iris_running,
    photo_bytes,
)


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


async def test_flood_control_on_send_photo_is_waited_out(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.api.fail_next(
            "sendPhoto", error_code=429, description="Too Many Requests: retry after 1",
            retry_after=1,
        )  # fmt: skip
        await iris.say(ALICE, "/imagine a quiet street")
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 2)
        assert iris.api.calls_of("sendPhoto")[0].error is not None
        await iris.api.wait_until(lambda: any(m.photo for m in iris.api.bot_messages(ALICE.id)))
        await iris.settled()
        assert (await iris.job(1)).state == "done"


async def test_result_arrives_even_if_the_user_deleted_the_status_message(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine fog")
        await iris.api.wait_until(lambda: any(t.polls > 0 for t in iris.gptunnel.tasks.values()))
        job = await iris.job(1)
        assert job.status_message_id is not None
        iris.api.fail_next(
            "editMessageText", error_code=400,
            description="Bad Request: message to edit not found", times=1000,
        )  # fmt: skip
        iris.api.fail_next(
            "deleteMessage", error_code=400,
            description="Bad Request: message to delete not found", times=1000,
        )  # fmt: skip
        iris.gptunnel.final_status = "done"
        await iris.api.wait_until(lambda: any(m.photo for m in iris.api.bot_messages(ALICE.id)))
        await iris.settled()
        assert (await iris.job(1)).state == "done"


async def test_user_who_blocked_the_bot_is_marked_inactive(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.say(ALICE, "/imagine rain")
        await iris.api.wait_until(lambda: any(t.polls > 0 for t in iris.gptunnel.tasks.values()))
        iris.api.block(ALICE.id)
        iris.gptunnel.final_status = "done"
        await iris.api.wait_until(lambda: iris.api.called("sendPhoto"))
        # The job task ends once it has recorded the failure (re-checked on every poll).
        await iris.api.wait_until(lambda: iris.app.runner.running == 0)
        job = await iris.job(1)
        assert job.state == "failed"
        assert job.error == "blocked"
        user = await iris.app.storage.users.get(ALICE.id)
        assert user is not None
        assert not user.active


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
