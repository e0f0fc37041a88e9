"""The Bot API fake, driven by a real aiogram Bot and Dispatcher over loopback HTTP."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.types import Message as TgMessage
from PIL import Image

from playground.telegram import (
    BOT,
    BOT_ID,
    Button,
    CallbackAnswer,
    Chat,
    EntitiesError,
    Entity,
    FakeBotApi,
    User,
    parse_html,
)
from tests.conftest import Serve
from tests.fakes.server import LoopbackServer
from tests.harness import TOKEN

ALICE = User(id=1001, first_name="Alice", username="alice_w", language_code="en")
BOB = User(id=1002, first_name="Bob", username="bobby_b", language_code="es-419")
ALICE_CHAT = Chat.private(ALICE)
GROUP = Chat(id=-1001234567890, type="supergroup", title="Painters")
AGAIN = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="🔁 again", callback_data="again")]]
)


class LoopbackSession(AiohttpSession):
    """aiogram's session without its 250 ms wait for TLS connections to close: loopback has none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def image(fmt: str = "PNG", width: int = 64, height: int = 48) -> bytes:
    """Real image bytes made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN)
    yield fake
    assert fake.errors == []


@pytest.fixture
async def server(api: FakeBotApi, serve: Serve) -> LoopbackServer:
    return await serve(api.app())


@pytest.fixture
async def bot(server: LoopbackServer) -> AsyncIterator[Bot]:
    session = LoopbackSession(api=TelegramAPIServer.from_base(server.url))
    yield Bot(TOKEN, session=session)
    await session.close()


@asynccontextmanager
async def polling(bot: Bot, api: FakeBotApi, router: Router) -> AsyncIterator[None]:
    """A Dispatcher long-polling the fake (10 s polls) until the block ends."""
    dp = Dispatcher()
    dp.include_router(router)
    task = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=10, handle_signals=False, close_bot_session=False)
    )
    try:
        await asyncio.wait_for(api.polled.wait(), 5)
        yield
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


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


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2 < 3", 'Unsupported start tag "" at byte offset 2'),
        ("é <x>", 'Unsupported start tag "x" at byte offset 3'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=x", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_malformed_html_is_refused(api: FakeBotApi, bot: Bot, text: str, reason: str) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
        await bot.send_message(ALICE.id, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {reason}"


def test_html_subset_gives_text_and_entities() -> None:
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://x.org/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> &lt;tag&gt; &amp; &#233; '
        '<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span> <u>u</u> <s>s</s> '
        "<blockquote expandable>q</blockquote> <code>c</code> a & b"
    )
    assert text == "😀 bold both link x = 1 <tag> & é s t u s q c a & b"
    assert entities == (
        Entity("bold", 3, 9),
        Entity("italic", 8, 4),
        Entity("text_link", 13, 4, url="https://x.org/?a=1&b=2"),
        Entity("pre", 18, 5, language="python"),
        Entity("spoiler", 34, 1),
        Entity("spoiler", 36, 1),
        Entity("underline", 38, 1),
        Entity("strikethrough", 40, 1),
        Entity("expandable_blockquote", 42, 1),
        Entity("code", 44, 1),
    )
    with pytest.raises(EntitiesError):
        parse_html("<b>unclosed")


async def test_length_limits(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    await bot.send_message(ALICE.id, f"<b>{'a' * 4096}</b>", parse_mode="HTML")  # markup is free
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE.id, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE.id, BufferedInputFile(image(), "p.png"), caption="c" * 1025)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE.id, "x", reply_markup=markup)
    assert len(api.bot_messages(ALICE.id)) == 1


async def test_big_document_cannot_be_fetched(api: FakeBotApi, bot: Bot) -> None:
    big = api.send_document(
        ALICE, ALICE_CHAT, bytes(30 * 1024 * 1024), file_name="scan.tiff", mime_type="image/tiff"
    )
    assert big.document is not None
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big.document)
    small = api.send_document(
        ALICE, ALICE_CHAT, b"%PDF-1.4", file_name="notes.pdf", mime_type="application/pdf"
    )
    assert small.document is not None
    data = await bot.download(small.document)
    assert data is not None and data.read() == b"%PDF-1.4"
    sent = await bot.send_document(ALICE.id, BufferedInputFile(b"\x89PNG raw", "original.png"))
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("original.png", "image/png")


async def test_user_updates_parse_as_aiogram_types(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    result = await bot.send_message(ALICE.id, "A description")
    api.send_text(ALICE, ALICE_CHAT, "and the sky?", reply_to=result.message_id)
    api.send_media_group(ALICE, ALICE_CHAT, [image(), image("JPEG")], caption="two")
    updates = await bot.get_updates(timeout=0)
    follow_up, first, second = (u.message for u in updates)
    assert follow_up is not None and follow_up.reply_to_message is not None
    replied_from = follow_up.reply_to_message.from_user
    assert replied_from is not None and replied_from.is_bot
    assert first is not None and second is not None
    assert first.media_group_id == second.media_group_id is not None
    assert (first.caption, second.caption) == ("two", None)
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_commands_per_scope_and_language(api: FakeBotApi, bot: Bot) -> None:
    menu = [BotCommand(command="imagine", description="Generate an image")]
    await bot.set_my_commands(menu, scope=BotCommandScopeAllPrivateChats(), language_code="es")
    await bot.set_my_commands(menu, scope=BotCommandScopeChat(chat_id=ALICE.id))
    expected = [{"command": "imagine", "description": "Generate an image"}]
    assert api.commands("all_private_chats", "es") == expected
    assert api.commands("chat", chat_id=ALICE.id) == expected
    assert api.commands() == []
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="es")
    assert [c.command for c in got] == ["imagine"]
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="es")
    assert api.commands("all_private_chats", "es") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Imagine!", description="x")])


async def test_groups_members_actions_and_deletion_rights(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(GROUP, BOB, "administrator")
    api.add_member(ALICE_CHAT, ALICE)
    await bot.send_chat_action(GROUP.id, "upload_photo")
    assert api.chat_actions(GROUP.id) == ["upload_photo"]
    assert isinstance(await bot.get_chat_member(GROUP.id, BOB.id), ChatMemberAdministrator)
    assert (await bot.get_chat_member(GROUP.id, ALICE.id)).status == "left"
    chat = await bot.get_chat(GROUP.id)
    assert (chat.type, chat.title) == ("supergroup", "Painters")
    secret = api.send_text(BOB, GROUP, "/setkey gptunnel sk-secret")
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(GROUP.id, secret.message_id)
    api.add_member(GROUP, BOT, "administrator")
    await bot.delete_message(GROUP.id, secret.message_id)
    assert api.message(GROUP.id, secret.message_id).deleted
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-42, "nobody here")


async def test_wait_for_starts_after_the_mark(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(ALICE_CHAT, ALICE)
    await bot.send_message(ALICE.id, "one")
    api.mark()
    with pytest.raises(TimeoutError, match="no matching sendMessage"):
        await api.wait_for("sendMessage", timeout=0.05)
    await bot.send_message(ALICE.id, "two")
    assert (await api.wait_for("sendMessage")).params["text"] == "two"
    assert (await api.wait_for("sendMessage", after=0)).params["text"] == "one"
    await api.wait_until(lambda: len(api.bot_messages(ALICE.id)) == 2, timeout=1)


async def test_shutdown_releases_a_hanging_long_poll(
    api: FakeBotApi, bot: Bot, server: LoopbackServer
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.wait_for(api.polled.wait(), 5)
    await asyncio.wait_for(server.close(), 2)
    assert await asyncio.wait_for(poll, 2) == []
