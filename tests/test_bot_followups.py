"""Follow-up questions, result buttons (ratios, favorites) and recorded credits."""

from __future__ import annotations

from pathlib import Path

from playground.providers.ailuna import KEY_ALICE, KEY_BOB
from playground.telegram import Chat, Message, parse_html
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    BOB,
    CODEX_EMAIL,
    CODEX_SECRET,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    GROUP,
    Iris,
    answer_of,
    iris_running,
)

PHOTO = photo_bytes(80, 60)


async def answer_to(iris: Iris, chat_id: int, after: int) -> Message:
    """The bot's answer message (the sendMessage that is not a status message)."""
    call = await iris.api.wait_for(
        "sendMessage",
        where=lambda c: (
            int(c.params["chat_id"]) == chat_id and "Looking at the photo" not in c.params["text"]
        ),
        after=after,
    )
    await iris.settled()
    text, _ = parse_html(call.params["text"])
    return next(m for m in reversed(iris.api.bot_messages(chat_id)) if m.text == text)


async def test_follow_up_questions_carry_the_conversation(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        mark = iris.api.mark()
        iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO, caption="what is this?")
        first = await answer_to(iris, ALICE.id, mark)
        mark = iris.api.mark()
        await iris.say(ALICE, "what colour is it?", reply_to=first.message_id)
        second = await answer_to(iris, ALICE.id, mark)
        mark = iris.api.mark()
        await iris.say(ALICE, "and its size?", reply_to=second.message_id)
        await answer_to(iris, ALICE.id, mark)
        prompts = [p["prompt"] for p in iris.describepicture.payloads]
        assert prompts[0] == [{"role": "user", "text": "what is this?"}]
        assert prompts[1] == [
            {"role": "user", "text": "what is this?"},
            {"role": "model", "text": first.text},
            {"role": "user", "text": "what colour is it?"},
        ]
        assert prompts[2] == [*prompts[1], {"role": "model", "text": second.text},
                              {"role": "user", "text": "and its size?"}]  # fmt: skip
        # The same photo every time.
        images = {p["imageBase64"] for p in iris.describepicture.payloads}
        assert len(images) == 1


async def test_follow_up_in_a_group_and_with_codexaeternum(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        mark = iris.api.mark()
        iris.api.send_photo(ALICE, GROUP, PHOTO, caption="@iris_test_bot what is it?")
        first = await answer_to(iris, GROUP.id, mark)
        mark = iris.api.mark()
        await iris.say(ALICE, "@iris_test_bot how old?", chat=GROUP, reply_to=first.message_id)
        await answer_to(iris, GROUP.id, mark)
        assert iris.codex.questions == ["what is it?", "how old?"]
        assert iris.codex.described[0] == iris.codex.described[1]  # the photo sent again
        # A reply to another user's message, or to a bot message that is no answer, is ignored.
        mark = iris.api.mark()
        plain = await iris.say(BOB, "hello", chat=GROUP)
        await iris.say(ALICE, "hi bob", chat=GROUP, reply_to=plain.message_id)
        await iris.say(ALICE, "/help", chat=GROUP)
        reply = await iris.reply(GROUP.id, after=mark)
        assert "Iris" in reply.params["text"]
        assert len(iris.codex.questions) == 2


async def test_ratio_buttons_start_the_same_prompt_in_another_ratio(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a bridge --ar 4:3")
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        result = iris.api.bot_messages(ALICE.id)[-1]
        wide = next(b for b in result.buttons if b.text == "16:9")
        assert wide.callback_data is not None
        assert "4:3" not in [b.text for b in result.buttons]
        mark = iris.api.mark()
        iris.api.press(ALICE, result, wide.callback_data)
        await iris.api.wait_for("sendPhoto", after=mark)
        assert [t.ar for t in iris.gptunnel.tasks.values()] == ["4:3", "16:9"]
        assert [t.prompt for t in iris.gptunnel.tasks.values()] == ["a bridge", "a bridge"]


async def test_favorite_button_under_an_ailuna_result(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a teapot --provider ailuna")
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        result = iris.api.bot_messages(ALICE.id)[-1]
        star = next(b for b in result.buttons if "favorites" in b.text)
        assert star.callback_data is not None
        mark = iris.api.mark()
        iris.api.press(ALICE, result, star.callback_data)
        await iris.api.wait_for("editMessageReplyMarkup", after=mark)
        [image] = iris.ailuna.images.values()
        assert image.favorite is True
        result = iris.api.message(ALICE.id, result.message_id)
        star = next(b for b in result.buttons if "favorites" in b.text)
        assert star.text == "★ In favorites"
        assert star.callback_data is not None
        mark = iris.api.mark()
        iris.api.press(ALICE, result, star.callback_data)
        await iris.api.wait_for("editMessageReplyMarkup", after=mark)
        assert iris.ailuna.images[image.id].favorite is False
        updates = [r for r in iris.servers["ailuna"].requests if r.method in ("PUT", "PATCH")]
        assert [r.form()["favorite"] for r in updates] == ["1", "0"]


async def test_credits_from_provider_answers_are_recorded(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        mark = iris.api.mark()
        iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO, caption="--provider codexaeternum")
        await answer_to(iris, ALICE.id, mark)
        mark = iris.api.mark()
        iris.api.send_photo(ALICE, Chat.private(ALICE), PHOTO)
        await answer_to(iris, ALICE.id, mark)
        own = await iris.app.storage.credits.for_owner(ALICE.id)
        assert own["codexaeternum"].credits == iris.codex.credits
        assert "describepicture" not in own  # paid with the operator's App ID
        operator = await iris.app.storage.credits.for_owner(0)
        assert operator["describepicture"].credits == iris.describepicture.credits[DESCRIBE_APP_ID]


async def test_favorite_button_works_only_with_the_key_that_made_the_image(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path, ailuna_api_key=KEY_BOB) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a teapot --provider ailuna")
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        result = iris.api.bot_messages(ALICE.id)[-1]
        star = next(b for b in result.buttons if "favorites" in b.text)
        assert star.callback_data is not None
        # Alice's own key is gone: the operator's key is another AiLuna account.
        mark = iris.api.mark()
        await iris.say(ALICE, "/delkey ailuna")
        await iris.reply(ALICE.id, after=mark)
        query = iris.api.press(ALICE, result, star.callback_data)
        assert await answer_of(iris, query) == "This button is no longer valid."
        assert not [r for r in iris.servers["ailuna"].requests if r.method in ("PUT", "PATCH")]
