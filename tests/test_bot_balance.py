"""/balance through the real bot: own credits and their age, quota use, shared keys, no keys."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.i18n import create_i18n
from bot.storage.credits import OPERATOR
from handlers.balance import time_ago
from playground.providers.ailuna import KEY_ALICE
from playground.telegram import Chat, User
from services.base import mask
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    BOB,
    CODEX_EMAIL,
    CODEX_SECRET,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    GROUP,
    Iris,
    fill_quota,
    iris_running,
)

HEADER = "Your balance, as the providers last reported it"
SECRETS = (GPTUNNEL_KEY, DESCRIBE_APP_ID, CODEX_SECRET, KEY_ALICE)


async def balance(iris: Iris, user: User, *, chat: Chat | None = None) -> list[str]:
    """The lines of the bot's answer to /balance, as the user sees them."""
    mark = iris.api.mark()
    sent = await iris.say(user, "/balance", chat=chat)
    reply = await iris.reply(sent.chat_id, after=mark)
    assert int(reply.params["reply_parameters"]["message_id"]) == sent.message_id
    shown = iris.api.bot_messages(sent.chat_id)[-1].text
    assert shown is not None
    for secret in SECRETS:
        assert secret not in shown
        assert mask(secret) not in shown
    return shown.split("\n")


async def age(iris: Iris, owner: int, provider: str, seconds: float) -> None:
    """Make the stored credits of a provider `seconds` old."""
    await iris.app.storage.db.execute(
        "UPDATE credits SET updated_at = ? WHERE owner_id = ? AND provider = ?",
        (time.time() - seconds, owner, provider),
    )


async def test_own_keys_show_their_last_credits_and_age(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        credits = iris.app.storage.credits
        await credits.record(ALICE.id, "codexaeternum", 1234)
        await credits.record(ALICE.id, "describepicture", 87)
        await credits.record(ALICE.id, "ailuna", 5)  # from a key since removed: not shown
        await credits.record(BOB.id, "gptunnel", 999)
        await age(iris, ALICE.id, "codexaeternum", 5 * 60 + 10)
        await fill_quota(iris, DESCRIBE_APP_ID, hits=37, first=time.time() - 600)

        assert await balance(iris, ALICE) == [
            HEADER,
            "✅ GPTunnel (your key): balance not known yet, shown after your next job",
            "✅ CodexAeternum (your key): balance 1234, as of 5 min ago",
            "▫️ AiLuna: no key",
            "✅ DescribePicture (your key): balance 87, as of just now",
            "   ↳ This hour: 37/100 requests",
            "",
            "Add a key with /setkey in private chat.",
        ]


async def test_full_quota_says_when_it_frees_up(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        first = time.time() - 1800
        await fill_quota(iris, DESCRIBE_APP_ID, hits=100, first=first)
        frees = datetime.fromtimestamp(first + 3600, UTC).strftime("%H:%M")
        lines = await balance(iris, ALICE)
        quota = lines.index("   ↳ This hour: 100/100 requests")
        assert lines[quota - 1].startswith("✅ DescribePicture (your key)")
        assert lines[quota + 1] == f"   ↳ Used up: it frees up at {frees} UTC (in 30 min)"


async def test_shared_keys_say_so_without_the_operators_balance(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(
        serve, tmp_path, gptunnel_api_key=GPTUNNEL_KEY, describepicture_app_id=DESCRIBE_APP_ID
    ) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        await iris.app.storage.credits.record(OPERATOR, "gptunnel", 424242)
        await iris.app.storage.credits.record(OPERATOR, "describepicture", 515151)
        await iris.app.storage.credits.record(ALICE.id, "ailuna", 42)
        await age(iris, ALICE.id, "ailuna", 3 * 3600)
        await fill_quota(iris, DESCRIBE_APP_ID, hits=12, first=time.time() - 100)
        lines = await balance(iris, ALICE)
        assert lines == [
            HEADER,
            "🔸 GPTunnel: the bot's shared key",
            "▫️ CodexAeternum: no key",
            "✅ AiLuna (your key): balance 42, as of 3 h ago",
            "🔸 DescribePicture: the bot's shared key",
            "   ↳ This hour, shared by everyone on the bot's key: 12/100 requests",
            "",
            "Add a key with /setkey in private chat.",
        ]


async def test_own_app_id_quota_is_separate_from_the_shared_one(
    serve: Serve, tmp_path: Path
) -> None:
    own_app_id = "bob-own-app-id-9876543210"
    async with iris_running(serve, tmp_path, describepicture_app_id=DESCRIBE_APP_ID) as iris:
        await iris.set_key(BOB, "describepicture", own_app_id)
        await fill_quota(iris, DESCRIBE_APP_ID, hits=50, first=time.time() - 100)
        await fill_quota(iris, own_app_id, hits=3, first=time.time() - 100)
        lines = await balance(iris, BOB)
        assert "   ↳ This hour: 3/100 requests" in lines
        assert not any(own_app_id in line or mask(own_app_id) in line for line in lines)
        alices = await balance(iris, ALICE)
        assert "   ↳ This hour, shared by everyone on the bot's key: 50/100 requests" in alices


async def test_no_keys_at_all(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        lines = await balance(iris, BOB)
        assert lines[1:5] == [
            "▫️ GPTunnel: no key",
            "▫️ CodexAeternum: no key",
            "▫️ AiLuna: no key",
            "▫️ DescribePicture: no key",
        ]
        assert not any("This hour" in line for line in lines)
        assert lines[-1] == "Add a key with /setkey in private chat."


async def test_balance_works_in_groups(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.app.storage.credits.record(ALICE.id, "gptunnel", 77)
        lines = await balance(iris, ALICE, chat=GROUP)
        assert "✅ GPTunnel (your key): balance 77, as of just now" in lines


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "just now"),
        (59.9, "just now"),
        (60, "1 min ago"),
        (59 * 60 + 59, "59 min ago"),
        (3600, "1 h ago"),
        (47 * 3600 + 3599, "47 h ago"),
        (48 * 3600, "2 d ago"),
        (10 * 86400, "10 d ago"),
    ],
)
def test_time_ago(seconds: float, expected: str) -> None:
    with create_i18n("en").context():
        assert time_ago(seconds) == expected


async def test_a_new_key_forgets_the_old_keys_credits(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.app.storage.credits.record(ALICE.id, "gptunnel", 77)
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY + "2")
        assert await iris.app.storage.credits.for_owner(ALICE.id) == {}
