"""The outbox: message-sending calls paced, ordered and coalesced; Telegram's 429s waited out.

Most tests scale Telegram's windows down (the same logic, ten times faster); the emulator with
Telegram's own limits is in test_bot_pacing.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.outbox import Outbox, Pacing, Priority, Superseded, sending_as
from playground.providers.server import LoopbackServer
from playground.telegram import Chat, FakeBotApi, User
from tests.checks import text_of
from tests.conftest import Serve
from tests.harness import TOKEN

USERS = [User(id=2000 + i, first_name=f"U{i}", username=f"user{i}") for i in range(10)]
ALICE, BOB = USERS[0], USERS[1]
GROUP = Chat(id=-100500, type="supergroup", title="Artists")
FAST_TELEGRAM = Pacing(rate=300, private=(3, 0.3), group=(4, 0.4), tick=0.005)
"""Telegram's shape at ten times its speed."""


@pytest.fixture
async def api(serve: Serve) -> tuple[FakeBotApi, LoopbackServer]:
    fake = FakeBotApi(TOKEN, limits=None)  # the scaled windows are the outbox's to keep
    server = await serve(fake.app())
    for user in USERS:
        fake.add_member(Chat.private(user), user)
    fake.add_member(GROUP, ALICE)
    return fake, server


@pytest.fixture
async def paced(api: tuple[FakeBotApi, LoopbackServer]) -> AsyncIterator[tuple[Bot, Outbox]]:
    """A real aiogram Bot whose session carries an outbox, as the application builds it."""
    _, server = api
    outbox = Outbox(FAST_TELEGRAM)
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    session.middleware(outbox)
    bot = Bot(TOKEN, session=session)
    yield bot, outbox
    await outbox.close()
    await bot.session.close()


async def as_priority(priority: Priority, call: Awaitable[Message | bool]) -> Message | bool:
    with sending_as(priority):
        return await call


def progress_edit(
    bot: Bot, chat_id: int, message_id: int, text: str
) -> asyncio.Task[Message | bool]:
    """A progress edit of a status message, waiting in the outbox as a task."""
    edit = bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
    return asyncio.create_task(as_priority(Priority.PROGRESS, edit))


async def queued(outbox: Outbox, count: int) -> None:
    """Until `count` calls wait in the outbox: each gets there within a few turns of the event
    loop (counted turns, not time)."""
    for _ in range(1000):
        if outbox.waiting >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{outbox.waiting} calls wait in the outbox, not {count}")


async def fill_private_burst(bot: Bot, chat_id: int) -> Message:
    """Spend the chat's burst, so whatever comes next waits for budget."""
    sent = [await bot.send_message(chat_id, f"filler {i}") for i in range(3)]
    return sent[0]


def texts_after(api: FakeBotApi, mark: int) -> list[str]:
    return [text_of(call) for call in api.calls[mark:] if call.error is None and text_of(call)]


async def test_a_burst_in_one_private_chat_is_spread_and_keeps_its_order(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(bot.send_message(ALICE.id, f"part {i}") for i in range(6)))
    # Three at once (the burst), then one every 0.1 s.
    assert loop.time() - started >= 0.25
    assert [m.text for m in fake.bot_messages(ALICE.id)] == [f"part {i}" for i in range(6)]
    assert (outbox.sent, outbox.flood_waits) == (6, 0)


async def test_the_bot_wide_rate_holds_across_chats(
    api: tuple[FakeBotApi, LoopbackServer], serve: Serve
) -> None:
    fake, server = api
    outbox = Outbox(Pacing(rate=5, private=(3, 3.0), tick=0.005))
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    session.middleware(outbox)
    async with Bot(TOKEN, session=session) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(bot.send_message(user.id, "hello") for user in USERS))
        # Five at once, the other five at five a second.
        assert loop.time() - started >= 0.9
        await outbox.close()
    assert all(fake.bot_messages(user.id) for user in USERS)


async def test_answers_go_before_status_messages_and_progress(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    status = await fill_private_burst(bot, ALICE.id)
    mark = fake.mark()
    progress = progress_edit(bot, ALICE.id, status.message_id, "working… 5 s")
    new_status = asyncio.create_task(
        as_priority(Priority.STATUS, bot.send_message(ALICE.id, "another job: working"))
    )
    await queued(outbox, 2)  # both wait in the outbox before the answer comes
    await bot.send_message(ALICE.id, "the result")
    await asyncio.gather(progress, new_status)
    assert texts_after(fake, mark) == ["the result", "another job: working", "working… 5 s"]


async def test_only_the_newest_progress_text_is_sent(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    status = await fill_private_burst(bot, ALICE.id)
    mark = fake.mark()
    edits = [progress_edit(bot, ALICE.id, status.message_id, f"working… {i} s") for i in range(5)]
    results = await asyncio.gather(*edits)
    assert texts_after(fake, mark) == ["working… 4 s"]
    assert all(isinstance(r, Message) and r.text == "working… 4 s" for r in results)
    assert outbox.superseded == 4


async def test_a_final_edit_or_a_delete_drops_the_pending_progress(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    status = await fill_private_burst(bot, ALICE.id)
    other = await bot.send_message(BOB.id, "working… 0 s")
    mark = fake.mark()
    progress = progress_edit(bot, ALICE.id, status.message_id, "working… 5 s")
    await queued(outbox, 1)
    await bot.edit_message_text("✖️ Cancelled.", chat_id=ALICE.id, message_id=status.message_id)
    with pytest.raises(Superseded):
        await progress
    assert texts_after(fake, mark) == ["✖️ Cancelled."]
    # A delete does the same, and is itself not paced.
    await bot.send_message(BOB.id, "x")
    await bot.send_message(BOB.id, "y")
    late = progress_edit(bot, BOB.id, other.message_id, "working… 9 s")
    await queued(outbox, 1)
    assert await bot.delete_message(BOB.id, other.message_id)
    with pytest.raises(Superseded):
        await late
    assert not fake.calls_of("editMessageText")[1:]


async def test_a_flood_wait_pauses_that_chat_only_and_the_call_is_sent_after_it(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    fake.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    alice = asyncio.create_task(bot.send_message(ALICE.id, "for Alice"))
    await fake.wait_for("sendMessage")
    await bot.send_message(BOB.id, "for Bob")
    bob_done = loop.time() - started
    await alice  # the caller never sees the 429
    assert loop.time() - started >= 1.0 > bob_done
    assert [m.text for m in fake.bot_messages(ALICE.id)] == ["for Alice"]
    assert outbox.flood_waits == 1


async def test_a_busy_group_keeps_its_budget_for_answers(
    paced: tuple[Bot, Outbox],
) -> None:
    bot, outbox = paced
    assert outbox.has_room(GROUP.id, Priority.STATUS)
    await bot.send_message(GROUP.id, "a result")
    await bot.send_message(GROUP.id, "another result")
    # Half of the group's budget (4 in the scaled window) is spent: no status, no progress.
    assert not outbox.has_room(GROUP.id, Priority.STATUS)
    assert not outbox.has_room(GROUP.id, Priority.PROGRESS)
    assert outbox.has_room(GROUP.id, Priority.ANSWER)


async def test_chat_actions_are_skipped_while_answers_wait(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    assert await bot.send_chat_action(ALICE.id, "typing")
    await fill_private_burst(bot, ALICE.id)
    waiting = asyncio.create_task(bot.send_message(ALICE.id, "the result"))
    await queued(outbox, 1)
    assert await bot.send_chat_action(ALICE.id, "typing")
    await waiting
    assert len(fake.calls_of("sendChatAction")) == 1
    assert outbox.dropped_actions == 1


async def test_calls_still_waiting_at_close_are_cancelled(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, outbox = paced
    await fill_private_burst(bot, ALICE.id)
    waiting = asyncio.create_task(bot.send_message(ALICE.id, "too late"))
    await queued(outbox, 1)
    await outbox.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert [m.text for m in fake.bot_messages(ALICE.id)][-1] != "too late"


async def test_a_call_not_worth_a_wait_is_dropped_when_no_budget_comes_in_time(
    api: tuple[FakeBotApi, LoopbackServer], paced: tuple[Bot, Outbox]
) -> None:
    fake, _ = api
    bot, _ = paced
    for i in range(4):  # the scaled group bucket (4 per 0.4 s) is full
        await bot.send_message(GROUP.id, f"result {i}")
    with sending_as(Priority.STATUS, within=0.01), pytest.raises(Superseded):
        await bot.send_message(GROUP.id, "working… 0 s")
    assert "working… 0 s" not in [m.text for m in fake.bot_messages(GROUP.id)]


async def test_only_a_few_counted_calls_are_on_their_way_at_once(
    api: tuple[FakeBotApi, LoopbackServer],
) -> None:
    """Telegram counts a call when it arrives: calls held up on the way must not pile up and
    arrive in a bunch the bot's bucket never saw."""
    fake, server = api
    outbox = Outbox(Pacing(rate=300, in_flight=2, tick=0.005))
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    session.middleware(outbox)
    async with Bot(TOKEN, session=session) as bot:
        held = [fake.hold_next("sendMessage"), fake.hold_next("sendMessage")]
        sends = [asyncio.create_task(bot.send_message(user.id, "hello")) for user in USERS[:4]]
        await fake.wait_until(lambda: len(fake.calls_of("sendMessage")) == 2)
        # The other two wait in the outbox while both are on their way.
        assert outbox.waiting == 2
        held[0].set()
        await fake.wait_until(lambda: len(fake.calls_of("sendMessage")) == 3)
        held[1].set()
        await asyncio.gather(*sends)
        await outbox.close()
    assert len(fake.calls_of("sendMessage")) == 4
