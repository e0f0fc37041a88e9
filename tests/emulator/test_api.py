"""The emulator driven by a real aiogram Bot and Dispatcher over loopback HTTP."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot, F, Router, html
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
)
from aiogram.types import Message as TgMessage

from playground.providers.server import LoopbackServer
from playground.telegram import (
    BOT_ID,
    Button,
    CallbackAnswer,
    Entity,
    FakeBotApi,
)
from tests.emulator.support import (
    AGAIN,
    ALICE,
    ALICE_CHAT,
    BOB,
    GROUP,
    LoopbackSession,
    image,
    polling,
)
from tests.harness import TOKEN


async def test_get_me_and_wrong_token(api: FakeBotApi, bot: Bot, server: LoopbackServer) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (BOT_ID, "iris_test_bot", True)
    assert api.called("getMe")
    session = LoopbackSession(api=TelegramAPIServer.from_base(server.url))
    stranger = Bot("123456789:AAE_another-token-that-is-long-enough-9", session=session)
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await session.close()


async def test_plain_http_unknown_method_query_and_json(
    api: FakeBotApi, server: LoopbackServer
) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    base = f"{server.url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendSticker") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(f"{base}/getMe") as resp:
            assert (await resp.json())["result"]["username"] == "iris_test_bot"
        async with http.post(f"{base}/sendMessage", json={"chat_id": ALICE.id, "text": "7"}) as r:
            assert (await r.json())["result"]["text"] == "7"
    assert [c.method for c in api.calls] == ["sendSticker", "getMe", "sendMessage"]
    assert api.calls_of("sendMessage")[0].params == {"chat_id": ALICE.id, "text": "7"}


async def test_dispatcher_gets_private_and_group_messages(api: FakeBotApi, bot: Bot) -> None:
    router = Router()
    seen: list[TgMessage] = []

    @router.message(Command("start"))
    async def start(message: TgMessage) -> None:
        seen.append(message)
        assert message.from_user is not None
        name = html.quote(message.from_user.first_name)
        await message.answer(f"Hello, <b>{name}</b>!", parse_mode="HTML")

    @router.message(F.text)
    async def echo(message: TgMessage) -> None:
        seen.append(message)
        await message.reply(message.text or "")

    async with polling(bot, api, router):
        said = api.send_text(ALICE, ALICE_CHAT, "hi <there> & @bobby_b")
        await api.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == ALICE.id)
        api.send_text(BOB, GROUP, "/start@iris_test_bot")
        await api.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == GROUP.id)

    [echoed] = api.bot_messages(ALICE.id)
    assert (echoed.text, echoed.reply_to_message_id) == ("hi <there> & @bobby_b", said.message_id)
    [hello] = api.bot_messages(GROUP.id)
    assert hello.text == "Hello, Bob!"
    assert hello.entities == (Entity("bold", 7, 3),)
    private, group = seen
    assert private.chat.type == "private" and private.entities is not None
    assert [(e.type, e.offset, e.length) for e in private.entities] == [("mention", 13, 8)]
    assert group.chat.type == "supergroup" and group.chat.id == GROUP.id
    assert group.entities is not None
    assert [(e.type, e.offset, e.length) for e in group.entities] == [("bot_command", 0, 20)]


async def test_long_poll_answers_as_soon_as_an_update_is_queued(api: FakeBotApi, bot: Bot) -> None:
    router = Router()

    @router.message()
    async def pong(message: TgMessage) -> None:
        await message.answer("pong")

    async with polling(bot, api, router):
        # The poll is waiting (10 s); the answer must come long before that.
        api.send_text(ALICE, ALICE_CHAT, "ping")
        call = await api.wait_for("sendMessage", timeout=3)
    assert call.params == {"chat_id": ALICE.id, "text": "pong"}


async def test_bot_photo_upload_is_stored_and_downloadable(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    png = image("PNG", 64, 48)
    sent = await bot.send_photo(
        ALICE.id, BufferedInputFile(png, "cat.png"), caption="A <b>cat</b>", parse_mode="HTML"
    )
    assert sent.photo is not None and len(sent.photo) >= 2
    largest = sent.photo[-1]
    assert (largest.width, largest.height) == (64, 48)
    assert api.file_bytes(largest.file_id) == png
    upload = api.calls_of("sendPhoto")[0].file("photo")
    assert upload is not None and (upload.filename, upload.data) == ("cat.png", png)
    [stored] = api.bot_messages(ALICE.id)
    assert (stored.caption, stored.photo, stored.entities) == (
        "A cat",
        largest.file_id,
        (Entity("bold", 2, 3),),
    )
    downloaded = await bot.download(largest.file_id)
    assert downloaded is not None and downloaded.read() == png
    again = await bot.send_photo(ALICE.id, largest.file_id)
    assert again.photo is not None and again.photo[-1].file_id == largest.file_id


async def test_photo_telegram_refuses(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    with pytest.raises(TelegramBadRequest, match="PHOTO_INVALID_DIMENSIONS"):
        await bot.send_photo(ALICE.id, BufferedInputFile(image("PNG", 2100, 100), "wide.png"))
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE.id, BufferedInputFile(b"not an image", "x.png"))
    assert api.bot_messages(ALICE.id) == []


async def test_user_photo_downloads_with_the_exact_bytes(api: FakeBotApi, bot: Bot) -> None:
    router = Router()
    received: list[bytes] = []

    @router.message(F.photo)
    async def got(message: TgMessage, bot: Bot) -> None:
        assert message.photo is not None
        data = await bot.download(message.photo[-1])
        assert data is not None
        received.append(data.read())
        await message.answer(f"{message.caption}: {len(message.photo)} sizes")

    jpeg = image("JPEG", 300, 200)
    async with polling(bot, api, router):
        sent = api.send_photo(ALICE, ALICE_CHAT, jpeg, caption="what is this?")
        answer = await api.wait_for("sendMessage", timeout=3)
    assert received == [jpeg]
    assert answer.params["text"] == "what is this?: 2 sizes"
    assert sent.photo is not None and api.file_bytes(sent.photo) == jpeg
    [path] = api.downloads
    assert path.startswith("photos/") and path.endswith(".jpg")


async def test_callback_press_is_answered(api: FakeBotApi, bot: Bot) -> None:
    router = Router()
    pressed: list[int] = []

    @router.callback_query(F.data == "again")
    async def again(query: CallbackQuery) -> None:
        assert query.message is not None
        pressed.append(query.message.message_id)
        await query.answer("Working on it", show_alert=True)

    api.add_member(ALICE_CHAT, ALICE)
    sent = await bot.send_message(ALICE.id, "Result", reply_markup=AGAIN)
    stored = api.message(ALICE.id, sent.message_id)
    assert stored.buttons == [Button("🔁 again", callback_data="again")]
    async with polling(bot, api, router):
        query_id = api.press(ALICE, stored, "again")
        await api.wait_for("answerCallbackQuery", timeout=3)
    assert pressed == [sent.message_id]
    assert api.answers(query_id) == CallbackAnswer("Working on it", show_alert=True, url=None)
    with pytest.raises(ValueError, match="no button"):
        api.press(ALICE, stored, "missing")


async def test_edits_and_deletes_behave_like_telegram(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    sent = await bot.send_message(ALICE.id, "<b>Step 1</b>", parse_mode="HTML", reply_markup=AGAIN)
    chat_id, message_id = ALICE.id, sent.message_id
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>Step 1</b>",
            chat_id=chat_id,
            message_id=message_id,
            parse_mode="HTML",
            reply_markup=AGAIN,
        )
    await bot.edit_message_text("Step 2", chat_id=chat_id, message_id=message_id)
    edited = api.message(ALICE.id, sent.message_id)
    assert (edited.text, edited.edits, edited.reply_markup) == ("Step 2", 1, ())
    await bot.delete_message(ALICE.id, sent.message_id)
    assert api.bot_messages(ALICE.id) == []
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("Step 3", chat_id=chat_id, message_id=message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE.id, sent.message_id)


async def test_flood_wait_raises_retry_after(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE.id, "hi")
    assert caught.value.retry_after == 7
    assert api.bot_messages(ALICE.id) == []
    await bot.send_message(ALICE.id, "hi")
    assert [c.error for c in api.calls_of("sendMessage")] == [
        "Too Many Requests: retry after 7",
        None,
    ]


async def test_blocked_user_is_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    api.block(ALICE.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE.id, "hi")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(ALICE.id, "typing")
    api.send_text(ALICE, ALICE_CHAT, "/start")  # writing again unblocks
    await bot.send_message(ALICE.id, "welcome back")
