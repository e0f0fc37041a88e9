"""Who may use the bot and how often: ALLOWED_USER_IDS and the per-user rate limit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiogram.types import Chat as TgChat
from aiogram.types import Message
from aiogram.types import User as TgUser

from bot.i18n import create_i18n
from bot.middlewares import RateLimitMiddleware
from playground.telegram import Chat
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import ALICE, BOB, GPTUNNEL_KEY, GROUP, iris_running


async def test_allowlist_refuses_strangers_everywhere(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(
        serve, tmp_path, allowed_user_ids=str(ALICE.id), gptunnel_api_key=GPTUNNEL_KEY
    ) as iris:
        mark = iris.api.mark()
        await iris.say(BOB, "/imagine a forbidden thing")
        refusal = await iris.reply(BOB.id, after=mark)
        assert "private" in refusal.params["text"]
        # A stranger's key is deleted all the same, and stored nowhere.
        mark = iris.api.mark()
        setkey = await iris.say(BOB, "/setkey gptunnel stranger-key-0123456789")
        await iris.api.wait_for("deleteMessage", after=mark)
        assert iris.api.message(BOB.id, setkey.message_id).deleted
        assert await iris.app.storage.credentials.get(BOB.id, "gptunnel") is None
        # In a group a stranger gets silence; Alice is served.
        mark = iris.api.mark()
        await iris.say(BOB, "/help", chat=GROUP)
        await iris.say(ALICE, "/imagine an allowed thing", chat=GROUP)
        await iris.api.wait_for("sendPhoto", after=mark)
        group_texts = [
            c.params["text"] for c in iris.api.calls_of("sendMessage")[-5:]
            if int(c.params["chat_id"]) == GROUP.id
        ]  # fmt: skip
        assert not any("Iris" in t and "Generate" in t for t in group_texts)
        assert [t.prompt for t in iris.gptunnel.tasks.values()] == ["an allowed thing"]
        # Buttons too: Bob pressing a button of Alice's result is refused before any handler.
        result = iris.api.bot_messages(GROUP.id)[-1]
        again = result.buttons[0].callback_data
        assert again is not None
        query = iris.api.press(BOB, result, again)
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        answer = iris.api.answers(query)
        assert answer is not None
        assert "private" in (answer.text or "")
        assert len(iris.gptunnel.tasks) == 1


async def test_admins_are_always_allowed(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(
        serve, tmp_path, allowed_user_ids=str(ALICE.id), admin_ids=str(BOB.id)
    ) as iris:
        mark = iris.api.mark()
        await iris.say(BOB, "/help")
        reply = await iris.reply(BOB.id, after=mark)
        assert "Iris" in reply.params["text"]


async def test_rate_limit_answers_once_per_window(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, rate_limit_commands=3, rate_limit_window=3600) as iris:
        for _ in range(6):
            await iris.say(ALICE, "/help")
        await iris.say(ALICE, "just chatting")  # plain text is never counted
        await iris.say(BOB, "/help")  # the limit is per user
        await iris.api.wait_until(
            lambda: any(
                int(c.params["chat_id"]) == BOB.id for c in iris.api.calls_of("sendMessage")
            )
        )
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendMessage")) == 5)
        alice = [
            c.params["text"] for c in iris.api.calls_of("sendMessage")
            if int(c.params["chat_id"]) == ALICE.id
        ]  # fmt: skip
        assert sum("Hi! I'm Iris" in t for t in alice) == 3
        assert [t for t in alice if "Slow down" in t] == [
            "Slow down a little: try again in 3600 s."
        ]


async def test_rate_limit_window_slides() -> None:
    now = [0.0]
    limiter = RateLimitMiddleware(limit=2, window=10, clock=lambda: now[0])
    handled: list[float] = []
    replies: list[str] = []

    async def handler(event: object, data: dict[str, object]) -> None:
        handled.append(now[0])

    message = _command_message(replies)
    user = TgUser(id=1, is_bot=False, first_name="A")
    with create_i18n("en").context():
        for moment in (0, 1, 2, 9, 10.5, 11, 11.5):
            now[0] = moment
            await limiter(handler, message, {"event_from_user": user})
    assert handled == [0, 1, 10.5, 11]
    assert len(replies) == 2  # one warning in each full window that overflowed


async def test_rate_limit_forgets_users_whose_window_passed() -> None:
    now = [0.0]
    limiter = RateLimitMiddleware(limit=2, window=10, clock=lambda: now[0])
    replies: list[str] = []
    message = _command_message(replies)

    async def handler(event: object, data: dict[str, object]) -> None:
        return None

    async def hit(user_id: int) -> None:
        user = TgUser(id=user_id, is_bot=False, first_name="U")
        await limiter(handler, message, {"event_from_user": user})

    with create_i18n("en").context():
        for user_id in (1, 1, 1, 2):  # the third hit of user 1 is refused, with a warning
            await hit(user_id)
        assert limiter.users_tracked == 2
        now[0] = 10.5  # user 1's window has passed, user 2's too
        await hit(3)
        assert limiter.users_tracked == 1
        # Many distinct users, each writing once a second: only one window's worth is held.
        for second in range(1, 1001):
            now[0] = 10.5 + second
            await hit(1000 + second)
            assert limiter.users_tracked <= 11
        # A forgotten user starts afresh: two more commands, then one more warning.
        for _ in range(3):
            await hit(1)
    assert len(replies) == 2


def _command_message(replies: list[str]) -> Message:
    message = Message(
        message_id=1, date=datetime.now(UTC), chat=TgChat(id=1, type="private"), text="/help"
    )

    async def reply(text: str, **_: object) -> None:
        replies.append(text)

    object.__setattr__(message, "reply", reply)
    return message


async def test_operator_daily_limit_applies_to_shared_keys_only(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(
        serve, tmp_path, operator_daily_limit=2, gptunnel_api_key=GPTUNNEL_KEY
    ) as iris:
        for prompt in ("one", "two"):
            mark = iris.api.mark()
            await iris.say(BOB, f"/imagine {prompt}")
            await iris.api.wait_for("sendPhoto", after=mark)
        mark = iris.api.mark()
        await iris.say(BOB, "/imagine three")
        refusal = await iris.reply(BOB.id, after=mark)
        assert "today's 2 jobs on the bot's shared keys" in refusal.params["text"]
        buttons = refusal.params["reply_markup"]["inline_keyboard"][0]
        assert buttons[0]["url"] == "https://t.me/iris_test_bot?start=keys"
        assert len(iris.gptunnel.tasks) == 2
        # With a key of his own, Bob is not limited.
        await iris.set_key(BOB, "gptunnel", GPTUNNEL_KEY)
        mark = iris.api.mark()
        await iris.say(BOB, "/imagine four")
        await iris.api.wait_for("sendPhoto", after=mark)
        assert len(iris.gptunnel.tasks) == 3


async def test_an_album_counts_once_and_job_buttons_count_too(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(
        serve, tmp_path, rate_limit_commands=3, rate_limit_window=3600,
        gptunnel_api_key=GPTUNNEL_KEY,
    ) as iris:  # fmt: skip
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a shell")  # 1
        await iris.api.wait_for("sendPhoto", after=mark)
        await iris.settled()
        iris.api.send_media_group(
            ALICE, Chat.private(ALICE), [photo_bytes(seed=i) for i in range(5)]
        )  # 2
        result = next(m for m in iris.api.bot_messages(ALICE.id) if m.photo)
        again = result.buttons[0].callback_data
        assert again is not None
        first = iris.api.press(ALICE, result, again)  # 3: allowed
        await iris.api.wait_until(lambda: iris.api.answers(first) is not None)
        second = iris.api.press(ALICE, result, again)  # 4: over the limit
        await iris.api.wait_until(lambda: iris.api.answers(second) is not None)
        answer = iris.api.answers(second)
        assert answer is not None
        assert (answer.text or "").startswith("Slow down")
        await iris.settled()
        assert len(iris.gptunnel.tasks) == 2  # the first /imagine and one Again
