"""/imagine through the real bot: private and group chats, options, buttons, limits."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from playground.providers.gptunnel import refuse
from playground.telegram import ApiCall
from tests.checks import text_has
from tests.conftest import Serve
from tests.harness import ALICE, BOB, GPTUNNEL_KEY, GROUP, Iris, iris_running


def to_chat(chat_id: int) -> Callable[[ApiCall], bool]:
    """Calls aimed at one chat."""
    return lambda call: int(call.params["chat_id"]) == chat_id


async def status_of(iris: Iris, job_id: int) -> int:
    job = await iris.job(job_id)
    assert job.status_message_id is not None
    return job.status_message_id


async def test_imagine_delivers_a_photo_with_caption_and_buttons(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        mark = iris.api.mark()
        request = await iris.say(ALICE, "/imagine a red <b>fox</b> in the snow --ar 16:9")
        status = await iris.api.wait_for("sendMessage", after=mark)
        assert "Generating with GPTunnel" in status.params["text"]
        assert int(status.params["reply_parameters"]["message_id"]) == request.message_id
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        assert int(photo.params["chat_id"]) == ALICE.id
        caption = photo.params["caption"]
        assert "a red &lt;b&gt;fox&lt;/b&gt; in the snow" in caption
        assert "GPTunnel · --ar 16:9" in caption
        assert [task.ar for task in iris.gptunnel.tasks.values()] == ["16:9"]
        await iris.settled()
        job = await iris.job(1)
        assert job.state == "done"
        status_id = await status_of(iris, 1)
        await iris.api.wait_until(lambda: iris.api.message(ALICE.id, status_id).deleted)
        delivered = iris.api.bot_messages(ALICE.id)[-1]
        assert delivered.photo is not None
        labels = [b.text for b in delivered.buttons]
        assert labels[:2] == ["🔁 Again", "📎 Original file"]
        assert labels[2:] == ["1:1", "9:16", "4:3", "3:4", "21:9", "9:21"]  # the other ratios
        assert "upload_photo" in iris.api.chat_actions(ALICE.id)
        assert iris.gptunnel.violations == []


async def test_webp_result_is_converted_and_original_is_offered(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a lighthouse")
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        upload = photo.file("photo")
        assert upload is not None
        assert Image.open(io.BytesIO(upload.data)).format == "JPEG"
        assert [task.ar for task in iris.gptunnel.tasks.values()] == ["1:1"]  # the default
        delivered = iris.api.bot_messages(ALICE.id)[-1]
        original = next(b for b in delivered.buttons if b.text == "📎 Original file")
        assert original.callback_data is not None
        mark = iris.api.mark()
        query = iris.api.press(ALICE, delivered, original.callback_data)
        document = await iris.api.wait_for("sendDocument", after=mark)
        sent = document.file("document")
        assert sent is not None
        assert sent.data == iris.gptunnel.image  # the untouched WebP bytes
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        # A second press re-sends the stored file id instead of uploading again.
        mark = iris.api.mark()
        iris.api.press(ALICE, delivered, original.callback_data)
        again = await iris.api.wait_for("sendDocument", after=mark)
        assert again.file("document") is None
        assert isinstance(again.params["document"], str)


async def test_invalid_option_is_refused_before_any_request(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a cat --ar 5:4")
        reply = await iris.reply(ALICE.id, after=mark)
        assert "--ar 5:4" in reply.params["text"]
        assert "1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21" in reply.params["text"]
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a cat --style anime")
        reply = await iris.reply(ALICE.id, after=mark)
        assert "--style" in reply.params["text"]
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a cat --ar")
        reply = await iris.reply(ALICE.id, after=mark)
        assert "needs a value" in reply.params["text"]
        assert iris.gptunnel.tasks == {}
        assert await iris.app.storage.jobs.unfinished() == []


async def test_no_key_gets_a_deep_link_not_an_error(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a cat")
        reply = await iris.reply(ALICE.id, after=mark)
        assert "no key" in reply.params["text"]
        buttons = reply.params["reply_markup"]["inline_keyboard"][0]
        assert buttons[0]["url"] == "https://t.me/iris_test_bot?start=keys"
        # Following the deep link opens key setup.
        mark = iris.api.mark()
        await iris.say(ALICE, "/start keys")
        keys = await iris.reply(ALICE.id, after=mark)
        assert "Your keys" in keys.params["text"]


async def test_operator_key_is_used_for_users_without_one(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        mark = iris.api.mark()
        await iris.say(BOB, "/imagine a boat")
        await iris.api.wait_for("sendPhoto", where=to_chat(BOB.id), after=mark)
        assert (await iris.job(1)).credential_source == "operator"


async def test_again_button_starts_a_new_job(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a tree --ar 9:16")
        await iris.api.wait_for("sendPhoto", after=mark)
        delivered = iris.api.bot_messages(ALICE.id)[-1]
        again = next(b for b in delivered.buttons if b.text == "🔁 Again")
        assert again.callback_data is not None
        mark = iris.api.mark()
        iris.api.press(ALICE, delivered, again.callback_data)
        await iris.api.wait_for("sendPhoto", after=mark)
        assert [task.ar for task in iris.gptunnel.tasks.values()] == ["9:16", "9:16"]
        assert [task.prompt for task in iris.gptunnel.tasks.values()] == ["a tree", "a tree"]


async def test_cancel_stops_polling_and_drops_the_result(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        iris.gptunnel.final_status = "processing"  # never finishes until told
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.say(ALICE, "/imagine a storm")
        await iris.api.wait_until(lambda: any(t.polls > 0 for t in iris.gptunnel.tasks.values()))
        status_id = await status_of(iris, 1)
        status = iris.api.message(ALICE.id, status_id)
        cancel = status.buttons[0]
        assert cancel.callback_data is not None
        mark = iris.api.mark()
        query = iris.api.press(ALICE, status, cancel.callback_data)
        await iris.api.wait_for("editMessageText", where=text_has("Cancelled"), after=mark)
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        assert (await iris.job(1)).state == "cancelled"
        polls = sum(t.polls for t in iris.gptunnel.tasks.values())
        iris.gptunnel.final_status = "done"
        # Nothing more is asked of the provider, and no photo ever arrives.
        mark = iris.api.mark()
        await iris.say(ALICE, "/tasks")
        reply = await iris.reply(ALICE.id, after=mark)
        assert "no running jobs" in reply.params["text"]
        assert sum(t.polls for t in iris.gptunnel.tasks.values()) == polls
        assert not iris.api.called("sendPhoto")


async def test_tasks_lists_jobs_and_only_the_owner_may_cancel(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.gptunnel.final_status = "processing"
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a castle", chat=GROUP)
        await iris.api.wait_for("sendMessage", where=to_chat(GROUP.id), after=mark)
        # Polled once: the job is stored as polling, and only a cancel could change that.
        await iris.api.wait_until(lambda: any(t.polls for t in iris.gptunnel.tasks.values()))
        mark = iris.api.mark()
        await iris.say(ALICE, "/tasks", chat=GROUP)
        listing = await iris.reply(GROUP.id, after=mark)
        assert "#1 · GPTunnel" in listing.params["text"]
        status = iris.api.message(GROUP.id, await status_of(iris, 1))
        cancel = status.buttons[0].callback_data
        assert cancel is not None
        query = iris.api.press(BOB, status, cancel)
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        answer = iris.api.answers(query)
        assert answer is not None
        assert "Only the person who started this job" in (answer.text or "")
        assert (await iris.job(1)).state == "polling"
        iris.gptunnel.final_status = "done"
        await iris.api.wait_for("sendPhoto", where=to_chat(GROUP.id))


async def test_jobs_beyond_the_user_limit_wait_in_order(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, user_max_jobs=1) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.say(ALICE, "/imagine first")
        await iris.api.wait_until(lambda: len(iris.gptunnel.tasks) == 1)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine second")
        await iris.api.wait_for("sendMessage", where=text_has("Waiting"), after=mark)
        assert len(iris.gptunnel.tasks) == 1  # the second has not been sent
        iris.gptunnel.final_status = "done"
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 2)
        prompts = [t.prompt for t in iris.gptunnel.tasks.values()]
        assert prompts == ["first", "second"]


async def test_rejected_key_is_explained(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        iris.gptunnel.create_outcomes.append(refuse(401, "invalid api key"))
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a cat")
        edit = await iris.api.wait_for("editMessageText", where=text_has("rejected"), after=mark)
        assert "/setkey" in edit.params["text"]
        assert GPTUNNEL_KEY not in edit.params["text"]
        assert (await iris.job(1)).error == "auth"


async def test_job_timeout_is_reported(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, job_timeout=1) as iris:
        iris.gptunnel.final_status = "processing"
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine slow")
        edit = await iris.api.wait_for("editMessageText", where=text_has("too long"), after=mark)
        assert "GPTunnel" in edit.params["text"]
        assert (await iris.job(1)).state == "timed_out"


async def test_long_hostile_prompt_fits_the_caption_escaped(
    serve: Serve, tmp_path: Path, backend: dict[str, Any]
) -> None:
    async with iris_running(serve, tmp_path, **backend, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        prompt = "<i>x</i> & _y_ " * 150  # 2,250 characters of markup-like text
        mark = iris.api.mark()
        await iris.say(ALICE, f"/imagine {prompt} --ar 21:9")
        photo = await iris.api.wait_for("sendPhoto", after=mark)
        caption = photo.params["caption"]
        assert photo.error is None  # Telegram parsed it: nothing unescaped slipped through
        shown = iris.api.bot_messages(ALICE.id)[-1].caption or ""
        assert len(shown) <= 1024
        assert "…" in shown
        assert shown.startswith("<i>x</i> & _y_")
        assert "GPTunnel · --ar 21:9" in caption
