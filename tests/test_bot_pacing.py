"""The whole bot sends through the outbox: nothing reaches Telegram around it."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.outbox import COUNTED_METHODS, Pacing, Priority
from playground.telegram import Chat, User
from tests.checks import photo_bytes
from tests.conftest import Serve
from tests.harness import ALICE, GPTUNNEL_KEY, GROUP, ROOT, bot_process, iris_running
from tests.test_e2e import pending_gptunnel_setup


async def test_every_message_sending_call_passes_the_outbox(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        iris.api.add_member(GROUP, ALICE)
        await iris.say(ALICE, "/start")
        await iris.say(ALICE, "/imagine a lighthouse at dawn --ar 16:9")
        await iris.say(ALICE, "/imagine a red fox", chat=GROUP)
        await iris.settled()
        await iris.say(ALICE, "/settings")
        await iris.say(ALICE, "/tasks")
        iris.api.send_photo(ALICE, Chat.private(ALICE), photo_bytes())
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 2)
        await iris.settled()
        await iris.api.wait_until(lambda: iris.app.outbox.waiting == 0)
        counted = [c for c in iris.api.calls if c.method in COUNTED_METHODS and c.error is None]
        assert len(counted) >= 8
        assert iris.app.outbox.sent == len(counted)


def test_one_bot_is_built_and_it_carries_the_outbox() -> None:
    """A second Bot (or session) would be a way around the outbox: only create_bot builds one."""
    builders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"Bot", "AiohttpSession"}
            ):
                builders.append(path.relative_to(ROOT).as_posix())
    # `check` asks Telegram who the bot is (getMe) and sends nothing.
    assert sorted(builders) == ["bot/app.py"] * 3 + ["bot/check.py"] * 2
    source = (ROOT / "bot" / "app.py").read_text()
    assert "session.middleware(outbox)" in source


async def test_the_real_process_stays_within_telegrams_limits_in_a_busy_group(
    serve: Serve, tmp_path: Path
) -> None:
    """Twelve people in one group and one impatient user in private: every result arrives, and
    Telegram (limits on: 20 a minute in a group, about 1 a second in a private chat) never has
    to say 429."""
    api, gptunnel, _, env = await pending_gptunnel_setup(serve, tmp_path)
    gptunnel.final_status = "done"
    members = [User(id=5000 + i, first_name=f"Member{i}", username=f"member{i}") for i in range(12)]
    for user in members:
        api.add_member(GROUP, user)
    assert api.limits is not None
    async with bot_process(env, tmp_path):
        for user in members:
            api.send_text(user, GROUP, f"/imagine a portrait of {user.first_name}")
        for i in range(3):
            api.send_text(ALICE, Chat.private(ALICE), f"/imagine a kite number {i}")
        await api.wait_until(lambda: len(api.calls_of("sendPhoto")) == 15, timeout=90)
    assert api.limits.refusals() == 0


async def test_in_a_busy_group_status_messages_give_way_to_results(
    serve: Serve, tmp_path: Path
) -> None:
    # A group bucket of 4 that barely drains: half of it is free for two status messages.
    slow_group = Pacing(rate=10_000, private=(10_000, 1.0), group=(4, 400.0), tick=0.002)
    async with iris_running(
        serve, tmp_path, pacing=slow_group, gptunnel_api_key=GPTUNNEL_KEY
    ) as iris:
        members = [User(id=5000 + i, first_name=f"M{i}", username=f"member{i}") for i in range(4)]
        for user in members:
            iris.api.add_member(GROUP, user)
        iris.gptunnel.final_status = "processing"  # no result takes budget before the statuses
        for user in members:
            await iris.say(user, f"/imagine a portrait of {user.first_name}", chat=GROUP)
        await iris.api.wait_until(lambda: len(iris.gptunnel.tasks) == len(members))
        statuses = [c for c in iris.api.calls_of("sendMessage") if c.chat_id == GROUP.id]
        assert len(statuses) == 2
        assert iris.app.outbox.has_room(GROUP.id, Priority.ANSWER)  # results still go
        iris.gptunnel.final_status = "done"
        await iris.api.wait_until(lambda: len(iris.api.calls_of("sendPhoto")) == 2)
