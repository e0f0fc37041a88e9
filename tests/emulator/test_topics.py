"""Forum topics in the emulator: opening one, writing in it, and where the bot's messages land."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ReplyParameters

from playground.telegram import BOT, Chat, FakeBotApi
from tests.emulator.support import ALICE, GROUP

FORUM = Chat.forum(-1009876543210, "Studio")


@pytest.fixture
def topic(api: FakeBotApi) -> int:
    api.add_member(FORUM, ALICE)
    return api.open_topic(ALICE, FORUM, "Portraits")


async def test_an_opened_topic_and_a_message_in_it_reach_the_bot(
    api: FakeBotApi, bot: Bot, topic: int
) -> None:
    said = api.send_text(ALICE, FORUM, "a portrait of my cat", thread_id=topic)
    opened, message = [u.message for u in await bot.get_updates()]
    assert opened is not None and message is not None
    assert opened.message_id == topic
    assert opened.forum_topic_created is not None
    assert opened.forum_topic_created.name == "Portraits"
    assert (opened.message_thread_id, opened.is_topic_message) == (topic, True)
    assert opened.chat.is_forum is True
    assert (message.message_id, message.text) == (said.message_id, "a portrait of my cat")
    assert (message.message_thread_id, message.is_topic_message) == (topic, True)
    # A plain message in a topic is shown as a reply to the topic's first message.
    assert message.reply_to_message is not None
    assert message.reply_to_message.message_id == topic
    assert said.thread_id == topic


async def test_the_bot_writes_in_a_topic_or_in_general(
    api: FakeBotApi, bot: Bot, topic: int
) -> None:
    inside = await bot.send_message(FORUM.id, "in the topic", message_thread_id=topic)
    general = await bot.send_message(FORUM.id, "in General")
    assert (inside.message_thread_id, inside.is_topic_message) == (topic, True)
    assert general.message_thread_id is None
    assert [(m.text, m.thread_id) for m in api.bot_messages(FORUM.id)] == [
        ("in the topic", topic),
        ("in General", None),
    ]
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(FORUM.id, "nowhere", message_thread_id=topic + 1000)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_chat_action(FORUM.id, "typing", message_thread_id=topic + 1000)
    assert len(api.bot_messages(FORUM.id)) == 2


async def test_a_reply_lands_in_the_topic_of_its_message(
    api: FakeBotApi, bot: Bot, topic: int
) -> None:
    asked = api.send_text(ALICE, FORUM, "draw me", thread_id=topic)
    answer = await bot.send_message(
        FORUM.id, "here it is", reply_parameters=ReplyParameters(message_id=asked.message_id)
    )
    assert answer.message_thread_id == topic
    assert api.message(FORUM.id, answer.message_id).thread_id == topic
    thanks = api.send_text(ALICE, FORUM, "thanks", reply_to=answer.message_id)
    assert (thanks.thread_id, thanks.reply_to_message_id) == (topic, answer.message_id)


async def test_a_reply_to_a_vanished_message_lands_in_general_unless_a_topic_is_named(
    api: FakeBotApi, bot: Bot, topic: int
) -> None:
    gone = await bot.send_message(FORUM.id, "soon gone", message_thread_id=topic)
    await bot.delete_message(FORUM.id, gone.message_id)
    missing = ReplyParameters(message_id=gone.message_id, allow_sending_without_reply=True)
    general = await bot.send_message(FORUM.id, "to General", reply_parameters=missing)
    named = await bot.send_message(
        FORUM.id, "to the topic", reply_parameters=missing, message_thread_id=topic
    )
    assert api.message(FORUM.id, general.message_id).thread_id is None
    assert api.message(FORUM.id, named.message_id).thread_id == topic
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(
            FORUM.id, "strict", reply_parameters=ReplyParameters(message_id=gone.message_id)
        )


async def test_topics_exist_only_in_forums(api: FakeBotApi, bot: Bot) -> None:
    api.add_member(GROUP, ALICE)
    with pytest.raises(ValueError, match="not a forum"):
        api.open_topic(ALICE, GROUP, "Nope")
    with pytest.raises(ValueError, match="only a supergroup can be a forum"):
        Chat(id=-5, type="group", is_forum=True)
    # Outside forums the thread id does not place the message in a topic.
    sent = await bot.send_message(GROUP.id, "plain", message_thread_id=7)
    assert api.message(GROUP.id, sent.message_id).thread_id is None
    api.add_member(FORUM, BOT, "administrator")
    with pytest.raises(ValueError, match="no topic"):
        api.send_text(ALICE, FORUM, "lost", thread_id=12345)
