"""Command menus per language and scope, and /stats for admins only."""

from __future__ import annotations

from pathlib import Path

from playground.telegram import User
from tests.conftest import Serve
from tests.harness import ALICE, BOB, GPTUNNEL_KEY, Iris, iris_running


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


async def test_menus_per_scope_and_language(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path, admin_ids=str(ALICE.id)) as iris:
        for language in ("en", "es", "ru", "zh"):
            private = iris.api.commands("all_private_chats", language)
            groups = iris.api.commands("all_group_chats", language)
            assert "setkey" in names(private)
            assert "stats" not in names(private)
            assert "imagine" in names(groups)
            assert "setkey" not in names(groups)
            assert "keys" not in names(groups)
            admin = iris.api.commands("chat", language, chat_id=ALICE.id)
            assert names(admin) == [*names(private), "stats"]
        # English is also the menu of every other language.
        assert iris.api.commands("all_private_chats", "") == iris.api.commands(
            "all_private_chats", "en"
        )
        english = iris.api.commands("all_private_chats", "en")
        assert next(c for c in english if c["command"] == "imagine")["description"] == (
            "Generate an image from text"
        )
        assert iris.api.commands("chat", "en", chat_id=BOB.id) == []


async def one_image_for_bob(iris: Iris) -> None:
    """Bob generates one image on the operator's GPTunnel key: one done job for /stats."""
    mark = iris.api.mark()
    await iris.say(BOB, "/imagine a kite")
    await iris.api.wait_for("sendPhoto", after=mark)
    await iris.settled()


async def test_stats_for_admins_only(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(
        serve, tmp_path, admin_ids=str(ALICE.id), gptunnel_api_key=GPTUNNEL_KEY
    ) as iris:
        await one_image_for_bob(iris)
        mark = iris.api.mark()
        await iris.say(BOB, "/stats")
        await iris.say(ALICE, "/stats")
        reply = await iris.reply(ALICE.id, after=mark)
        text = reply.params["text"]
        assert "Users: 2" in text
        assert "GPTunnel: 1 job (done 1); failure rate 0%" in text
        assert "Last hour" in text
        assert "All time" in text
        await iris.say(BOB, "/help")
        help_reply = await iris.reply(BOB.id, after=mark)
        assert "Iris" in help_reply.params["text"]
        # Bob got no stats: the command does not exist for him.
        bob_texts = [
            c.params["text"] for c in iris.api.calls_of("sendMessage")
            if int(c.params["chat_id"]) == BOB.id
        ]  # fmt: skip
        assert not any("Users:" in t for t in bob_texts)


async def test_stats_speak_the_admins_language(serve: Serve, tmp_path: Path) -> None:
    olga = User(id=1009, first_name="Olga", language_code="ru")
    async with iris_running(
        serve, tmp_path, admin_ids=str(olga.id), gptunnel_api_key=GPTUNNEL_KEY
    ) as iris:
        await one_image_for_bob(iris)
        mark = iris.api.mark()
        await iris.say(olga, "/stats")
        text = (await iris.reply(olga.id, after=mark)).params["text"]
        assert "GPTunnel: 1 задача (готово 1)" in text, text
        assert "done" not in text
