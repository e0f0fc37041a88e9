"""Inline mode in the emulator: queries, answers checked as Telegram checks them, chosen
results, presses on inline messages and edits by inline_message_id."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChosenInlineResult,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InlineQueryResultPhoto,
    InlineQueryResultsButton,
    InputMediaPhoto,
    InputTextMessageContent,
)

from playground.telegram import FakeBotApi
from tests.emulator.support import AGAIN, ALICE, ALICE_CHAT, BOB, GROUP, image, polling

OUTSIDE = GROUP  # never written to by anyone the bot knows: the bot is not in it


def article(
    result_id: str, *, keyboard: InlineKeyboardMarkup | None = AGAIN
) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id,
        title="Generate",
        input_message_content=InputTextMessageContent(
            message_text="<b>a fox</b>", parse_mode="HTML"
        ),
        reply_markup=keyboard,
    )


async def query(api: FakeBotApi, text: str = "a fox") -> str:
    api.inline_mode = True
    return api.inline_query(ALICE, OUTSIDE, text)


async def test_get_me_reports_inline_mode(api: FakeBotApi, bot: Bot) -> None:
    assert (await bot.get_me()).supports_inline_queries is False
    api.inline_mode = True
    assert (await bot.get_me()).supports_inline_queries is True
    api.inline_mode = False
    with pytest.raises(ValueError, match="setinline"):
        api.inline_query(ALICE, OUTSIDE, "x")


async def test_answer_is_kept_with_its_settings(api: FakeBotApi, bot: Bot) -> None:
    query_id = await query(api)
    button = InlineQueryResultsButton(text="Add a key", start_parameter="keys")
    assert await bot.answer_inline_query(
        query_id, [article("g:1")], cache_time=5, is_personal=True, next_offset="20", button=button
    )
    answer = api.inline_answer(query_id)
    assert answer is not None
    assert (answer.cache_time, answer.is_personal, answer.next_offset) == (5, True, "20")
    assert answer.button is not None and answer.button.start_parameter == "keys"
    assert answer.results[0].text == "a fox"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_inline_query(query_id, [article("g:1")])  # answered once only


@pytest.mark.parametrize(
    ("results", "error"),
    [
        ([article(str(i)) for i in range(51)], "RESULTS_TOO_MUCH"),
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([article("same"), article("same")], "RESULT_ID_DUPLICATE"),
        (
            [InlineQueryResultCachedPhoto(id="p", photo_file_id="AgAC-nope")],
            "wrong file identifier",
        ),
        (
            [InlineQueryResultPhoto(id="p", photo_url="https://x.test/a.jpg", thumbnail_url="no")],
            "PHOTO_THUMB_URL_EMPTY",
        ),
    ],
)
async def test_refused_results(
    api: FakeBotApi, bot: Bot, results: list[object], error: str
) -> None:
    query_id = await query(api)
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.answer_inline_query(query_id, results)  # type: ignore[arg-type]
    assert api.inline_answer(query_id) is None


async def test_refused_offset_and_button(api: FakeBotApi, bot: Bot) -> None:
    query_id = await query(api)
    with pytest.raises(TelegramBadRequest, match="NEXT_OFFSET_INVALID"):
        await bot.answer_inline_query(query_id, [], next_offset="9" * 65)
    bad_button = InlineQueryResultsButton(text="Keys", start_parameter="no spaces")
    with pytest.raises(TelegramBadRequest, match="START_PARAM_INVALID"):
        await bot.answer_inline_query(query_id, [], button=bad_button)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_inline_query("404", [])


async def test_chosen_result_without_feedback_then_press_and_edit(
    api: FakeBotApi, bot: Bot
) -> None:
    query_id = await query(api)
    await bot.answer_inline_query(query_id, [article("g:1"), article("plain", keyboard=None)])
    plain = api.choose(ALICE, query_id, "plain")
    assert plain.via_bot and plain.inline_message_id is None  # no keyboard: never editable
    posted = api.choose(ALICE, query_id, "g:1")
    assert posted.via_bot and posted.from_id == ALICE.id and posted.inline_message_id
    assert not [u for u in api.state.pending if "chosen_inline_result" in u]  # feedback off
    with pytest.raises(TelegramForbiddenError, match="not a member"):
        await bot.send_message(OUTSIDE.id, "hello")  # the bot is not in the chat
    presses: list[CallbackQuery] = []
    router = Router()

    @router.callback_query()
    async def pressed(callback: CallbackQuery) -> None:
        presses.append(callback)
        await callback.answer()

    async with polling(bot, api, router):
        api.press(BOB, posted, "again")
        await api.wait_until(lambda: bool(presses))
    assert presses[0].message is None and presses[0].inline_message_id == posted.inline_message_id
    inline_id = posted.inline_message_id
    api.add_member(ALICE_CHAT, ALICE)
    assert (
        await bot.edit_message_text("generating…", inline_message_id=inline_id, reply_markup=AGAIN)
        is True
    )
    photo = await bot.send_photo(ALICE_CHAT.id, BufferedInputFile(image(), "a.png"))
    assert photo.photo is not None
    file_id = photo.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="can't upload a new file"):
        await bot.edit_message_media(
            InputMediaPhoto(media=BufferedInputFile(image(), "b.png")), inline_message_id=inline_id
        )
    await bot.edit_message_media(
        InputMediaPhoto(media=file_id, caption="a fox"),
        inline_message_id=inline_id,
        reply_markup=AGAIN,
    )
    shown = api.inline_message(inline_id)
    assert (shown.text, shown.caption, shown.photo) == (None, "a fox", file_id)
    await bot.edit_message_caption(inline_message_id=inline_id, caption="done")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_ID_INVALID"):
        await bot.edit_message_text("x", inline_message_id="AgAAA-unknown")


async def test_feedback_on_sends_chosen_result(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    photo = await bot.send_photo(ALICE_CHAT.id, BufferedInputFile(image(), "a.png"))
    assert photo.photo is not None
    query_id = await query(api, "")
    shared = InlineQueryResultCachedPhoto(
        id="img:1", photo_file_id=photo.photo[-1].file_id, caption="fox"
    )
    await bot.answer_inline_query(query_id, [shared, article("g:1")])
    api.inline_feedback = True
    chosen: list[ChosenInlineResult] = []
    queries: list[InlineQuery] = []
    router = Router()

    @router.chosen_inline_result()
    async def on_chosen(result: ChosenInlineResult) -> None:
        chosen.append(result)

    @router.inline_query()
    async def on_query(inline: InlineQuery) -> None:
        queries.append(inline)

    async with polling(bot, api, router):
        sent = api.choose(ALICE, query_id, "img:1")
        api.choose(ALICE, query_id, "g:1")
        api.inline_query(ALICE, OUTSIDE, "next", offset="20")
        await api.wait_until(lambda: len(chosen) == 2 and len(queries) == 2)
    assert sent.photo == photo.photo[-1].file_id and sent.caption == "fox"
    assert chosen[0].inline_message_id is None and chosen[1].inline_message_id is not None
    assert (chosen[1].result_id, chosen[1].query) == ("g:1", "")
    assert (queries[1].query, queries[1].offset, queries[1].chat_type) == (
        "next",
        "20",
        "supergroup",
    )
    with pytest.raises(ValueError, match="only the user"):
        api.choose(BOB, query_id, "g:1")


async def test_inline_edits_count_against_the_overall_bucket_only(
    api: FakeBotApi, bot: Bot
) -> None:
    query_id = await query(api)
    await bot.answer_inline_query(query_id, [article("g:1")])
    inline_id = api.choose(ALICE, query_id, "g:1").inline_message_id
    assert inline_id is not None
    await asyncio.gather(
        *(
            bot.edit_message_text(f"edit {i}", inline_message_id=inline_id, reply_markup=AGAIN)
            for i in range(5)
        )
    )
    assert api.limits is not None
    assert api.limits.counted_calls(None) == 5 and api.limits.counted_calls(OUTSIDE.id) == 0
