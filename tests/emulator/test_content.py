"""The emulator's content rules and queries, driven by a real aiogram Bot over loopback HTTP."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from playground.providers.server import LoopbackServer
from playground.telegram import (
    BOT,
    EntitiesError,
    Entity,
    FakeBotApi,
    parse_html,
)
from tests.emulator.support import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GROUP,
    image,
)


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
