"""Telegram's flood limits in the emulator, on a test clock: each bucket, the 429, recovery."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import BufferedInputFile, InputMediaPhoto, MediaUnion

from playground.providers.server import LoopbackServer
from playground.telegram import Chat, FakeBotApi, Limits, User
from tests.conftest import Serve
from tests.emulator.support import ALICE, ALICE_CHAT, GROUP, LoopbackSession, image
from tests.harness import TOKEN


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(clock: Clock) -> FakeBotApi:
    fake = FakeBotApi(TOKEN, limits=Limits(clock=clock))
    fake.add_member(ALICE_CHAT, ALICE)
    fake.add_member(GROUP, ALICE)
    return fake


def limits_of(api: FakeBotApi) -> Limits:
    assert api.limits is not None
    return api.limits


async def refused(bot: Bot, chat_id: int) -> int:
    """The retry_after of the 429 aiogram raises for one more message."""
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(chat_id, "one too many")
    return caught.value.retry_after


async def test_the_429_is_shaped_like_telegrams(
    api: FakeBotApi, bot: Bot, server: LoopbackServer
) -> None:
    for n in range(3):
        await bot.send_message(ALICE.id, f"message {n}")
    url = f"{server.url}/bot{TOKEN}/sendMessage"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"chat_id": ALICE.id, "text": "fourth"}) as response,
    ):
        assert response.status == 429
        assert await response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
    assert [m.text for m in api.bot_messages(ALICE.id)] == [f"message {n}" for n in range(3)]
    assert api.calls_of("sendMessage")[-1].error == "Too Many Requests: retry after 1"


async def test_a_private_chat_takes_3_in_3_seconds(api: FakeBotApi, bot: Bot, clock: Clock) -> None:
    for _ in range(3):
        await bot.send_message(ALICE.id, "hi")
    assert await refused(bot, ALICE.id) == 1
    clock.advance(0.5)
    assert await refused(bot, ALICE.id) == 1  # half a message drained: still full
    clock.advance(0.5)
    await bot.send_message(ALICE.id, "after a second")
    assert await refused(bot, ALICE.id) == 1
    limits = limits_of(api)
    assert (limits.counted_calls(ALICE.id), limits.refusals(ALICE.id)) == (4, 3)
    assert (limits.counted_calls(), limits.refusals()) == (4, 3)
    assert len(api.bot_messages(ALICE.id)) == 4


async def test_a_group_takes_20_a_minute(api: FakeBotApi, bot: Bot, clock: Clock) -> None:
    for _ in range(20):
        await bot.send_message(GROUP.id, "hi all")
    assert await refused(bot, GROUP.id) == 3  # drains one message every 3 s
    clock.advance(2.9)
    assert await refused(bot, GROUP.id) == 1
    clock.advance(0.1)
    await bot.send_message(GROUP.id, "again")
    assert limits_of(api).refusals(GROUP.id) == 2
    assert limits_of(api).counted_calls(GROUP.id) == 21


async def test_all_chats_together_take_30_a_second(api: FakeBotApi, bot: Bot, clock: Clock) -> None:
    users = [User(id=2000 + n, first_name=f"U{n}") for n in range(11)]
    for user in users:
        api.add_member(Chat.private(user), user)
    for user in users[:10]:
        for _ in range(3):
            await bot.send_message(user.id, "hi")
    assert await refused(bot, users[10].id) == 1  # its own chat is empty: the overall limit
    assert limits_of(api).refusals(users[10].id) == 1
    clock.advance(1 / 30 + 0.001)
    await bot.send_message(users[10].id, "hi")
    assert limits_of(api).counted_calls() == 31


async def test_an_album_counts_each_item_and_chat_actions_do_not_count(
    api: FakeBotApi, bot: Bot, clock: Clock
) -> None:
    def album() -> list[MediaUnion]:
        return [InputMediaPhoto(media=BufferedInputFile(image(), f"{n}.png")) for n in range(2)]

    for _ in range(5):
        await bot.send_chat_action(ALICE.id, "typing")
    await bot.send_media_group(ALICE.id, album())
    await bot.send_message(ALICE.id, "third")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_media_group(ALICE.id, album())
    assert caught.value.retry_after == 2  # two places free only after 2 s
    clock.advance(1)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_media_group(ALICE.id, album())
    clock.advance(1)
    await bot.send_media_group(ALICE.id, album())
    assert len(api.bot_messages(ALICE.id)) == 5
    assert limits_of(api).refusals(ALICE.id) == 2


async def test_edits_count_as_messages(api: FakeBotApi, bot: Bot, clock: Clock) -> None:
    sent = await bot.send_message(ALICE.id, "v1")
    await bot.edit_message_text("v2", chat_id=ALICE.id, message_id=sent.message_id)
    await bot.edit_message_text("v3", chat_id=ALICE.id, message_id=sent.message_id)
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("v4", chat_id=ALICE.id, message_id=sent.message_id)
    assert api.message(ALICE.id, sent.message_id).text == "v3"
    clock.advance(1)
    await bot.edit_message_text("v4", chat_id=ALICE.id, message_id=sent.message_id)


async def test_failed_calls_take_nothing(api: FakeBotApi, bot: Bot) -> None:
    for _ in range(5):
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(ALICE.id, " ")
    for _ in range(3):
        await bot.send_message(ALICE.id, "hi")
    assert limits_of(api).counted_calls() == 3


async def test_limits_can_be_off(serve: Serve) -> None:
    unlimited = FakeBotApi(TOKEN, limits=None)
    unlimited.add_member(ALICE_CHAT, ALICE)
    server = await serve(unlimited.app())
    session = LoopbackSession(api=TelegramAPIServer.from_base(server.url))
    try:
        bot = Bot(TOKEN, session=session)
        for _ in range(10):
            await bot.send_message(ALICE.id, "hi")
    finally:
        await session.close()
    assert len(unlimited.bot_messages(ALICE.id)) == 10
