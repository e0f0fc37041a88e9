"""Forum topics: every message about a request lands in the topic the request came from."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

from playground.telegram import Chat, FakeBotApi, Message
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import ALICE, BOB, DESCRIBE_APP_ID, GPTUNNEL_KEY, bot_process, iris_running
from tests.test_e2e import pending_gptunnel_setup

FORUM = Chat.forum(-100777, "Studio")
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendChatAction"}


def threads_after(
    api: FakeBotApi, mark: int, chat_id: int = FORUM.id
) -> list[tuple[str, int | None]]:
    """Each sending call to the chat since `mark`: its method and the topic it named."""
    return [
        (call.method, call.params.get("message_thread_id"))
        for call in api.calls[mark:]
        if call.method in SENDING and call.chat_id == chat_id and call.error is None
    ]


def newest(api: FakeBotApi) -> int:
    """The id of the newest message anywhere: what a test notes before acting."""
    return max((m.message_id for m in api.state.messages.values()), default=0)


def landed(api: FakeBotApi, since: int) -> list[Message]:
    """The bot's messages in the forum newer than `since`, with the topic each is in."""
    return [m for m in api.bot_messages(FORUM.id) if m.message_id > since]


async def test_a_generation_in_a_topic_answers_there_start_to_finish(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.api.add_member(FORUM, ALICE)
        topic = iris.api.open_topic(ALICE, FORUM, "Lighthouses")
        mark, since = iris.api.mark(), newest(iris.api)
        await iris.say(ALICE, "/imagine a lighthouse at dawn", chat=FORUM, thread_id=topic)
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        sent = threads_after(iris.api, mark)
        assert {method for method, _ in sent} >= {"sendMessage", "sendPhoto"}
        assert all(thread == topic for _, thread in sent)
        assert all(m.thread_id == topic for m in landed(iris.api, since))
        # /tasks and 📎 answer in the topic too.
        photo = landed(iris.api, since)[-1]
        mark = iris.api.mark()
        await iris.say(ALICE, "/tasks", chat=FORUM, thread_id=topic)
        iris.api.press(ALICE, photo, photo.buttons[1].callback_data or "")
        await iris.api.wait_for("sendDocument", after=mark)
        assert [t for _, t in threads_after(iris.api, mark)] == [topic, topic]


async def test_every_part_of_a_long_answer_lands_in_the_topic_even_with_its_request_gone(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        iris.api.add_member(FORUM, BOB)
        topic = iris.api.open_topic(BOB, FORUM, "Critique")
        long_answer = "\n\n".join(f"Paragraph {i}: " + "colour and light " * 60 for i in range(8))
        iris.describepicture.respond({"answer": long_answer, "lastCredits": 99})
        held = iris.api.hold_next("getFile")
        mark, since = iris.api.mark(), newest(iris.api)
        request = iris.api.send_photo(
            BOB, FORUM, photo_bytes(), caption="/describe what is this?", thread_id=topic
        )
        await iris.api.wait_for("getFile", after=mark)
        # The request is deleted before the answer: the answer still goes to the topic.
        iris.api.state.store(replace(request, deleted=True))
        held.set()
        await iris.settled()
        parts = [m for m in landed(iris.api, since) if m.text and "Paragraph" in m.text]
        assert len(parts) >= 2
        assert all(m.thread_id == topic for m in parts)
        assert all(t == topic for _, t in threads_after(iris.api, mark))


async def test_a_failure_is_told_in_the_topic(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.api.add_member(FORUM, ALICE)
        topic = iris.api.open_topic(ALICE, FORUM, "Errors")
        iris.gptunnel.final_status = "failed"
        mark, since = iris.api.mark(), newest(iris.api)
        await iris.say(ALICE, "/imagine a broken vase", chat=FORUM, thread_id=topic)
        await iris.api.wait_for("editMessageText", after=mark)  # the status tells the failure
        await iris.settled()
        assert (await iris.job(1)).state == "failed"
        messages = landed(iris.api, since)
        assert messages
        assert all(m.thread_id == topic for m in messages)


async def test_the_real_process_keeps_a_jobs_topic_across_a_kill(
    serve: Serve, tmp_path: Path
) -> None:
    api, gptunnel, _, env = await pending_gptunnel_setup(serve, tmp_path)
    api.add_member(FORUM, ALICE)
    topic = api.open_topic(ALICE, FORUM, "Night shift")
    async with bot_process(env, tmp_path) as first:
        api.send_text(ALICE, FORUM, "/imagine a harbour at night", thread_id=topic)
        await api.wait_until(lambda: any(t.polls > 0 for t in gptunnel.tasks.values()), timeout=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    gptunnel.final_status = "done"
    mark = api.mark()
    async with bot_process(env, tmp_path):
        photo = await api.wait_for("sendPhoto", after=mark, timeout=30)
    assert photo.params.get("message_thread_id") == topic
    assert all(m.thread_id == topic for m in api.bot_messages(FORUM.id))
