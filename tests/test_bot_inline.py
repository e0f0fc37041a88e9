"""Inline mode played by users in a chat the bot is not in: results, choosing, ▶️, sharing."""

from __future__ import annotations

import time
from pathlib import Path

from bot.storage.jobs import JobKind, JobRecord, NewJob
from playground.telegram import Chat, InlineAnswer, Message, User
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import ALICE, BOB, GPTUNNEL_KEY, Iris, creates, iris_running, provider_requests

OUTSIDE = Chat(id=-100777, type="supergroup", title="Friends")
"""A chat the bot was never added to."""
CAROL = User(id=1003, first_name="Carol", language_code="en")


async def ask(iris: Iris, user: User, text: str, *, offset: str = "") -> tuple[str, InlineAnswer]:
    iris.api.inline_mode = True
    query_id = iris.api.inline_query(user, OUTSIDE, text, offset=offset)
    return query_id, await iris.api.answer_to(query_id)


def generate_ids(answer: InlineAnswer) -> list[str]:
    return [r.id for r in answer.results if r.id.startswith("g:")]


async def turned_into_image(iris: Iris, message: Message) -> Message:
    assert message.inline_message_id is not None
    inline_id = message.inline_message_id
    await iris.api.wait_until(lambda: iris.api.inline_message(inline_id).photo is not None)
    await iris.settled()
    return iris.api.inline_message(inline_id)


async def test_generate_without_feedback_starts_on_the_button(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        query_id, answer = await ask(iris, ALICE, "a lighthouse at dawn --ar 16:9")
        assert answer.is_personal and answer.cache_time <= 10 and answer.button is None
        [result_id] = generate_ids(answer)
        result = answer.result(result_id)
        assert "GPTunnel" in (result.title or "") and "--ar 16:9" in (result.description or "")
        assert creates(iris) == 0 and await iris.app.storage.jobs.active_for_user(ALICE.id) == []
        posted = iris.api.choose(ALICE, query_id, result_id)
        assert posted.via_bot and "a lighthouse at dawn" in (posted.text or "")
        [start] = posted.buttons
        assert start.callback_data is not None
        iris.api.press(BOB, posted, start.callback_data)  # not Bob's request: nothing starts
        await iris.api.wait_for("answerCallbackQuery")
        assert creates(iris) == 0
        iris.api.press(ALICE, posted, start.callback_data)
        shown = await turned_into_image(iris, posted)
        assert shown.caption is not None and "a lighthouse at dawn" in shown.caption
        assert "GPTunnel" in shown.caption and "🔁 Again" in [b.text for b in shown.buttons]
        assert creates(iris) == 1
        mark = iris.api.mark()
        iris.api.press_data(ALICE, posted, start.callback_data)  # a late second press
        await iris.api.wait_for("answerCallbackQuery", after=mark)
        await iris.settled()
        assert creates(iris) == 1
        # The copy in Alice's private chat gave the file id the inline message shows.
        [copy] = [m for m in iris.api.bot_messages(ALICE.id) if m.photo]
        assert copy.photo == shown.photo
        medias = iris.api.calls_of("editMessageMedia")
        assert len(medias) == 1 and "inline_message_id" in medias[0].params


async def test_generate_with_feedback_starts_when_chosen(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await iris.say(ALICE, "/start")
        iris.api.inline_feedback = True
        query_id, answer = await ask(iris, ALICE, "a red fox")
        posted = iris.api.choose(ALICE, query_id, generate_ids(answer)[0])
        shown = await turned_into_image(iris, posted)
        assert shown.caption is not None and "a red fox" in shown.caption
        assert creates(iris) == 1
        [job] = [j for j in await _jobs(iris, ALICE) if j.inline_message_id]
        assert job.inline_message_id == posted.inline_message_id and job.result_file_id


async def test_option_mistakes_are_results_that_start_nothing(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        _, answer = await ask(iris, ALICE, "a fox --ar 5:4")
        assert generate_ids(answer) == []
        [mistake] = answer.results
        assert "5:4" in (mistake.description or "") and "16:9" in (mistake.description or "")
        assert mistake.reply_markup == ()  # nothing to press: it cannot start anything
        _, answer = await ask(iris, ALICE, "a fox --ar")
        assert "needs a value" in (answer.results[0].description or "")
        _, answer = await ask(iris, ALICE, "a fox --provider midjourney")
        assert "midjourney" in (answer.results[0].description or "")
        assert provider_requests(iris) == 0


async def test_no_key_gets_the_button_to_key_setup(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        for text in ("a fox", ""):
            _, answer = await ask(iris, BOB, text)
            assert generate_ids(answer) == []
            assert answer.button is not None and answer.button.start_parameter == "keys"


async def test_empty_query_pages_recent_images_and_sharing_costs_nothing(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        photo = iris.api.send_photo(ALICE, Chat.private(ALICE), photo_bytes())
        assert photo.photo is not None
        await iris.settled()
        jobs = iris.app.storage.jobs
        for i in range(25):
            job = await jobs.create(
                _new_job(f"fox number {i}" if i % 2 else f"owl {i}"), now=time.time()
            )
            await jobs.set_result_file_id(job.id, photo.photo)
        before = provider_requests(iris)
        query_id, first = await ask(iris, ALICE, "")
        assert len(first.results) == 20 and first.next_offset == "20"
        assert first.results[0].caption is not None and "owl 24" in first.results[0].caption
        _, second = await ask(iris, ALICE, "", offset="20")
        assert len(second.results) == 5 and second.next_offset == ""
        _, matching = await ask(iris, ALICE, "FOX")
        assert len([r for r in matching.results if r.id.startswith("img:")]) == 12
        shared = iris.api.choose(ALICE, query_id, first.results[0].id)
        assert shared.photo == photo.photo and shared.via_bot
        assert provider_requests(iris) == before and not iris.api.called("sendPhoto")


async def test_no_private_chat_and_no_storage_chat_pays_nothing(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        query_id, answer = await ask(iris, CAROL, "a quiet harbour")
        posted = iris.api.choose(CAROL, query_id, generate_ids(answer)[0])
        [start] = posted.buttons
        assert start.callback_data is not None
        iris.api.press(CAROL, posted, start.callback_data)
        assert posted.inline_message_id is not None
        inline_id = posted.inline_message_id
        await iris.api.wait_until(
            lambda: "private chat" in (iris.api.inline_message(inline_id).text or "")
        )
        links = [b.url for b in iris.api.inline_message(inline_id).buttons if b.url]
        assert links and "start=inline" in links[0]
        assert creates(iris) == 0


async def test_storage_chat_takes_the_upload(serve: Serve, tmp_path: Path) -> None:
    storage_chat = Chat(id=-100999, type="supergroup", title="Iris uploads")
    async with iris_running(
        serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, storage_chat_id=storage_chat.id
    ) as iris:
        iris.api.add_member(storage_chat, CAROL)
        iris.api.inline_feedback = True
        query_id, answer = await ask(iris, CAROL, "a quiet harbour")
        posted = iris.api.choose(CAROL, query_id, generate_ids(answer)[0])
        shown = await turned_into_image(iris, posted)
        [upload] = [m for m in iris.api.bot_messages(storage_chat.id) if m.photo]
        assert upload.photo == shown.photo and creates(iris) == 1


def _new_job(prompt: str) -> NewJob:
    return NewJob(
        kind=JobKind.GENERATE,
        provider="gptunnel",
        user_id=ALICE.id,
        chat_id=ALICE.id,
        chat_type="private",
        prompt=prompt,
        credential_source="operator",
        language="en",
    )


async def _jobs(iris: Iris, user: User) -> list[JobRecord]:
    rows = await iris.app.storage.db.fetchall("SELECT id FROM jobs WHERE user_id = ?", (user.id,))
    return [await iris.job(row["id"]) for row in rows]
