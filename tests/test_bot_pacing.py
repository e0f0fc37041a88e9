"""The whole bot sends through the outbox: nothing reaches Telegram around it."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.outbox import COUNTED_METHODS
from playground.telegram import Chat
from tests.conftest import Serve
from tests.harness import ALICE, GPTUNNEL_KEY, GROUP, ROOT, iris_running, photo_bytes


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
