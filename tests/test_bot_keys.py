"""/setkey, /keys, /delkey, /start and /help through the real bot, as a careful user tries them."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from playground.providers.ailuna import KEY_ALICE, KEY_BOB
from playground.providers.codexaeternum import Canned
from playground.telegram import BOT, ApiCall, Button, Chat, Message, User
from services.base import mask
from services.codexaeternum import CodexAeternumCredential
from tests.checks import assert_absent, db_bytes, text_of
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
    iris_running,
    provider_requests,
)

WRONG_CODEX_SECRET = "codex-wrong-secret-9876543210"
UNKNOWN_AILUNA_KEY = "ailuna-unknown-key-0123456789abcdef"
BOB_GPTUNNEL_KEY = "shds-BOBgptunnelKEY9876543210fedcba"
STRAY_KEY = "sk-live-StrayKeyTypedWithoutProvider01"
SECRETS = (
    GPTUNNEL_KEY,
    DESCRIBE_APP_ID,
    CODEX_SECRET,
    KEY_ALICE,
    KEY_BOB,
    WRONG_CODEX_SECRET,
    UNKNOWN_AILUNA_KEY,
    BOB_GPTUNNEL_KEY,
    STRAY_KEY,
)
"""Every secret a test may type; none may ever be sent by the bot, logged or stored in clear."""

DEEP_LINK = "https://t.me/iris_test_bot?start=keys"
EXCHANGE = "/login/tokenexchange/"
AILUNA_LIST = "/api/v1/images"
NAMES = ("GPTunnel", "CodexAeternum", "AiLuna", "DescribePicture")


@asynccontextmanager
async def watched(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture, **overrides: Any
) -> AsyncIterator[Iris]:
    """The running bot; afterwards no secret is in its messages, its logs or its database."""
    caplog.set_level(logging.DEBUG)
    async with iris_running(serve, tmp_path, **overrides) as iris:
        yield iris
        secrets = [*SECRETS, *iris.codex.issued]
        assert_absent(secrets, db_bytes(iris.settings.data_dir), "the open database")
    # After a clean stop the WAL is folded into iris.db: scan it again.
    assert_absent(secrets, db_bytes(iris.settings.data_dir), "the closed database")
    for call in iris.api.calls:
        assert_absent(secrets, json.dumps(call.params, ensure_ascii=False), call.method)
    assert_absent(secrets, caplog.text, "the log")


async def answer_to(iris: Iris, user: User, text: str, *, chat: Chat | None = None) -> ApiCall:
    """The bot's first message in the chat after the user sends a text."""
    mark = iris.api.mark()
    sent = await iris.say(user, text, chat=chat)
    return await iris.reply(sent.chat_id, after=mark)


def deletions(iris: Iris, message: Message) -> list[ApiCall]:
    """The bot's deleteMessage calls aimed at one message."""
    return [
        call
        for call in iris.api.calls_of("deleteMessage")
        if int(call.params["chat_id"]) == message.chat_id
        and int(call.params["message_id"]) == message.message_id
    ]


def button(message: Message, text: str) -> Button:
    """The button of a bot message with this text."""
    found = [b for b in message.buttons if b.text == text]
    assert found, f"no button {text!r} in {[b.text for b in message.buttons]}"
    return found[0]


def last_bot_message(iris: Iris, chat_id: int) -> Message:
    """The bot's newest message in a chat, as the user sees it now."""
    return iris.api.bot_messages(chat_id)[-1]


async def stored(iris: Iris, user: User, provider: str) -> tuple[str, ...] | None:
    """The credential parts the bot keeps for the user, decrypted."""
    return await iris.app.storage.credentials.get(user.id, provider)


# --- /setkey in private ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "name", "parts", "masked"),
    [
        ("gptunnel", "GPTunnel", (GPTUNNEL_KEY,), mask(GPTUNNEL_KEY)),
        ("describepicture", "DescribePicture", (DESCRIBE_APP_ID,), mask(DESCRIBE_APP_ID)),
        (
            "codexaeternum",
            "CodexAeternum",
            (CODEX_EMAIL, CODEX_SECRET),
            f"{CODEX_EMAIL} {mask(CODEX_SECRET)}",
        ),
        ("ailuna", "AiLuna", (KEY_ALICE,), mask(KEY_ALICE)),
    ],
)
async def test_setkey_deletes_the_message_confirms_masked_and_stores_encrypted(
    serve: Serve,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    provider: str,
    name: str,
    parts: tuple[str, ...],
    masked: str,
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        mark = iris.api.mark()
        sent = await iris.say(ALICE, f"/setkey {provider} {' '.join(parts)}")
        confirmation = text_of(await iris.reply(ALICE.id, after=mark))
        assert f"Saved your {name} key" in confirmation
        assert masked in confirmation
        assert parts[-1] not in confirmation
        assert "could not delete" not in confirmation
        assert len(deletions(iris, sent)) == 1
        assert iris.api.message(ALICE.id, sent.message_id).deleted
        assert await stored(iris, ALICE, provider) == parts
        assert await iris.app.storage.credentials.masked(ALICE.id) == {provider: masked}
        assert f"user {ALICE.id} stored a {provider} key" in caplog.text  # the log is captured
        assert_absent(parts[-1:], db_bytes(iris.settings.data_dir), "the database")


async def test_codexaeternum_secret_is_checked_by_one_token_exchange(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        mark = iris.api.mark()
        sent = await iris.say(ALICE, f"/setkey codexaeternum {CODEX_EMAIL} {WRONG_CODEX_SECRET}")
        refusal = text_of(await iris.reply(ALICE.id, after=mark))
        assert "CodexAeternum rejected this key" in refusal
        assert iris.api.message(ALICE.id, sent.message_id).deleted
        assert await stored(iris, ALICE, "codexaeternum") is None
        assert iris.codex.issued == []
        assert len(iris.servers["codexaeternum"].calls("POST", EXCHANGE)) == 1

        confirmation = await answer_to(
            iris, ALICE, f"/setkey codexaeternum {CODEX_EMAIL} {CODEX_SECRET}"
        )
        assert "Saved your CodexAeternum key" in text_of(confirmation)
        assert "checked on first use" not in text_of(confirmation)
        assert len(iris.servers["codexaeternum"].calls("POST", EXCHANGE)) == 2
        assert len(iris.codex.issued) == 1
        token = iris.codex.issued[0]
        rows = await iris.app.storage.db.fetchall("SELECT token FROM session_tokens")
        assert len(rows) == 1
        assert token.encode() not in bytes(rows[0]["token"])
        credential = CodexAeternumCredential(CODEX_EMAIL, CODEX_SECRET)
        assert await iris.app.storage.tokens.get(credential.cache_key()) == token
        assert_absent([token], db_bytes(iris.settings.data_dir), "the database")
        assert "session token exchanged" in caplog.text  # DEBUG records are captured too


async def test_codexaeternum_key_is_kept_when_the_check_is_inconclusive(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        iris.codex.exchange_outcomes.append(Canned(200, {"detail": "maintenance"}))
        reply = await answer_to(iris, ALICE, f"/setkey codexaeternum {CODEX_EMAIL} {CODEX_SECRET}")
        assert "Saved your CodexAeternum key" in text_of(reply)
        assert "could not check it right now" in text_of(reply)
        assert await stored(iris, ALICE, "codexaeternum") == (CODEX_EMAIL, CODEX_SECRET)


async def test_ailuna_key_is_checked_with_a_list_call(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        refusal = await answer_to(iris, ALICE, f"/setkey ailuna {UNKNOWN_AILUNA_KEY}")
        assert "AiLuna rejected this key" in text_of(refusal)
        assert await stored(iris, ALICE, "ailuna") is None

        confirmation = await answer_to(iris, ALICE, f"/setkey ailuna {KEY_ALICE}")
        assert "Saved your AiLuna key" in text_of(confirmation)
        assert await stored(iris, ALICE, "ailuna") == (KEY_ALICE,)
        lists = iris.servers["ailuna"].calls("GET", AILUNA_LIST)
        assert [request.query for request in lists] == [{"per_page": "10"}] * 2
        assert [request.headers["Authorization"] for request in lists] == [
            f"Bearer {UNKNOWN_AILUNA_KEY}",
            f"Bearer {KEY_ALICE}",
        ]


async def test_gptunnel_and_describepicture_keys_are_stored_without_a_request(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        for provider, key in (("gptunnel", GPTUNNEL_KEY), ("describepicture", DESCRIBE_APP_ID)):
            reply = await answer_to(iris, ALICE, f"/setkey {provider} {key}")
            assert "checked on first use" in text_of(reply)
            assert await stored(iris, ALICE, provider) == (key,)
        assert iris.servers["gptunnel"].requests == []
        assert iris.servers["describepicture"].requests == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/setkey", "/setkey codexaeternum you@example.com SECRET_TOKEN"),
        ("/setkey   ", "/setkey ailuna API_KEY"),
        (f"/setkey openai {STRAY_KEY}", "Unknown provider. Choose one of: gptunnel, codexaeternum"),
        (f"/setkey {STRAY_KEY}", "Unknown provider"),
        ("/setkey gptunnel", "not look like a valid GPTunnel key"),
        (f"/setkey gptunnel {GPTUNNEL_KEY} {STRAY_KEY}", "not look like a valid GPTunnel key"),
        (f"/setkey describepicture {DESCRIBE_APP_ID} x", "look like a valid DescribePicture"),
        (f"/setkey codexaeternum {CODEX_SECRET}", "like a valid CodexAeternum key"),
        (f"/setkey codexaeternum {CODEX_SECRET} {CODEX_EMAIL}", "look like a valid Codex"),
        (f"/setkey ailuna {KEY_ALICE} {KEY_BOB}", "does not look like a valid AiLuna key"),
    ],
)
async def test_malformed_setkey_shows_usage_deletes_and_stores_nothing(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, expected: str
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        mark = iris.api.mark()
        sent = await iris.say(ALICE, text)
        reply = text_of(await iris.reply(ALICE.id, after=mark))
        assert expected in reply
        assert "/setkey" in reply  # how to write it
        assert iris.api.message(ALICE.id, sent.message_id).deleted
        assert await iris.app.storage.credentials.masked(ALICE.id) == {}
        assert provider_requests(iris) == 0


async def test_setkey_says_so_whenever_its_message_could_not_be_deleted(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        iris.api.fail_next(
            "deleteMessage", error_code=400, description="Bad Request: message can't be deleted"
        )
        reply = text_of(await answer_to(iris, ALICE, f"/setkey gptunnel {GPTUNNEL_KEY}"))
        assert "Saved your GPTunnel key" in reply
        assert "could not delete your message" in reply
        iris.api.fail_next(
            "deleteMessage", error_code=400, description="Bad Request: message can't be deleted"
        )
        reply = text_of(await answer_to(iris, ALICE, f"/setkey {STRAY_KEY}"))
        assert "Unknown provider" in reply
        assert "could not delete your message" in reply
        reply = text_of(await answer_to(iris, ALICE, f"/setkey ailuna {KEY_ALICE}"))
        assert "could not delete" not in reply  # deletion works again


# --- groups ------------------------------------------------------------------------------------


async def test_setkey_in_a_group_is_deleted_and_sent_to_private(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        iris.api.add_member(GROUP, BOT, "administrator")
        mark = iris.api.mark()
        sent = await iris.say(ALICE, f"/setkey@iris_test_bot gptunnel {GPTUNNEL_KEY}", chat=GROUP)
        reply = await iris.reply(GROUP.id, after=mark)
        assert iris.api.message(GROUP.id, sent.message_id).deleted
        assert len(deletions(iris, sent)) == 1
        assert "private chat" in text_of(reply)
        assert "I stored nothing" in text_of(reply)
        assert "could not delete" not in text_of(reply)
        assert mask(GPTUNNEL_KEY) not in text_of(reply)
        keyboard = reply.params["reply_markup"]["inline_keyboard"]
        assert [[b.get("url") for b in row] for row in keyboard] == [[DEEP_LINK]]
        assert await iris.app.storage.credentials.masked(ALICE.id) == {}
        assert provider_requests(iris) == 0


async def test_setkey_in_a_group_warns_when_it_cannot_be_deleted(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        mark = iris.api.mark()
        sent = await iris.say(ALICE, f"/setkey ailuna {KEY_ALICE}", chat=GROUP)
        reply = await iris.reply(GROUP.id, after=mark)
        [attempt] = deletions(iris, sent)
        assert attempt.error is not None
        assert not iris.api.message(GROUP.id, sent.message_id).deleted
        assert "could not delete that message" in text_of(reply)
        assert "I stored nothing" in text_of(reply)
        keyboard = reply.params["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["url"] == DEEP_LINK
        assert await stored(iris, ALICE, "ailuna") is None
        assert provider_requests(iris) == 0


async def test_keys_and_delkey_in_a_group_list_nothing_and_change_nothing(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        for text in ("/keys", "/delkey gptunnel", "/keys@iris_test_bot", "/delkey"):
            mark = iris.api.mark()
            sent = await iris.say(ALICE, text, chat=GROUP)
            reply = await iris.reply(GROUP.id, after=mark)
            assert "private chat" in text_of(reply)
            assert reply.params["reply_markup"]["inline_keyboard"][0][0]["url"] == DEEP_LINK
            assert deletions(iris, sent) == []
        group_texts = " ".join(
            text_of(c)
            for c in iris.api.calls_of("sendMessage")
            if int(c.params["chat_id"]) == GROUP.id
        )
        for shown in (mask(GPTUNNEL_KEY), mask(CODEX_SECRET), CODEX_EMAIL, "Your keys"):
            assert shown not in group_texts
        assert await stored(iris, ALICE, "gptunnel") == (GPTUNNEL_KEY,)


# --- /keys, its buttons, /delkey ---------------------------------------------------------------


async def test_keys_lists_masked_keys_with_remove_and_add_buttons(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        listing = text_of(await answer_to(iris, ALICE, "/keys"))
        assert "Your keys" in listing
        assert f"GPTunnel: <code>{mask(GPTUNNEL_KEY)}</code>" in listing
        assert f"CodexAeternum: <code>{CODEX_EMAIL} {mask(CODEX_SECRET)}</code>" in listing
        assert "AiLuna: not set" in listing
        assert "DescribePicture: not set" in listing
        keys = last_bot_message(iris, ALICE.id)
        assert [b.text for b in keys.buttons] == [
            "🗑 Remove GPTunnel key",
            "🗑 Remove CodexAeternum key",
            "➕ Add AiLuna key",
            "➕ Add DescribePicture key",
        ]

        remove = button(keys, "🗑 Remove GPTunnel key").callback_data
        assert remove is not None
        mark = iris.api.mark()
        query = iris.api.press(ALICE, keys, remove)
        await iris.api.wait_for("editMessageText", after=mark)
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
        answer = iris.api.answers(query)
        assert answer is not None
        assert answer.text == "🗑 Removed your GPTunnel key."
        assert await stored(iris, ALICE, "gptunnel") is None
        assert await stored(iris, ALICE, "codexaeternum") == (CODEX_EMAIL, CODEX_SECRET)
        refreshed = iris.api.message(ALICE.id, keys.message_id)
        assert refreshed.text is not None
        assert "GPTunnel: not set" in refreshed.text
        assert f"CodexAeternum: {CODEX_EMAIL} {mask(CODEX_SECRET)}" in refreshed.text
        assert [b.text for b in refreshed.buttons][:2] == [
            "➕ Add GPTunnel key",
            "🗑 Remove CodexAeternum key",
        ]

        add = button(refreshed, "➕ Add AiLuna key").callback_data
        assert add is not None
        mark = iris.api.mark()
        query = iris.api.press(ALICE, refreshed, add)
        usage = text_of(await iris.reply(ALICE.id, after=mark))
        assert "/setkey ailuna API_KEY" in usage
        assert "/setkey gptunnel" not in usage
        await iris.api.wait_until(lambda: iris.api.answers(query) is not None)


async def test_keys_of_one_user_are_invisible_and_untouchable_to_another(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        bobs = text_of(await answer_to(iris, BOB, "/keys"))
        assert mask(GPTUNNEL_KEY) not in bobs
        assert mask(KEY_ALICE) not in bobs
        assert all(f"{name}: not set" in bobs for name in NAMES)
        assert all("Add" in b.text for b in last_bot_message(iris, BOB.id).buttons)

        reply = await answer_to(iris, BOB, "/delkey gptunnel")
        assert text_of(reply) == "You had no GPTunnel key."
        assert await stored(iris, ALICE, "gptunnel") == (GPTUNNEL_KEY,)

        await iris.set_key(BOB, "gptunnel", BOB_GPTUNNEL_KEY)
        reply = await answer_to(iris, BOB, "/delkey gptunnel")
        assert text_of(reply) == "🗑 Removed your GPTunnel key."
        assert await stored(iris, BOB, "gptunnel") is None
        assert await stored(iris, ALICE, "gptunnel") == (GPTUNNEL_KEY,)
        assert await stored(iris, ALICE, "ailuna") == (KEY_ALICE,)
        # Nothing of Bob's ever reached Alice's chat, and nothing of Alice's reached Bob's.
        to_bob = [
            text_of(c)
            for c in iris.api.calls_of("sendMessage")
            if int(c.params["chat_id"]) == BOB.id
        ]
        assert not any(mask(GPTUNNEL_KEY) in t or mask(KEY_ALICE) in t for t in to_bob)


async def test_delkey_removes_says_when_nothing_is_stored_and_names_valid_providers(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        reply = await answer_to(iris, ALICE, "/delkey DescribePicture")
        assert text_of(reply) == "🗑 Removed your DescribePicture key."
        assert await stored(iris, ALICE, "describepicture") is None
        reply = await answer_to(iris, ALICE, "/delkey describepicture")
        assert text_of(reply) == "You had no DescribePicture key."
        for text in ("/delkey openai", "/delkey", f"/delkey gptunnel {STRAY_KEY}"):
            reply = await answer_to(iris, ALICE, text)
            assert "gptunnel, codexaeternum, ailuna, describepicture" in text_of(reply)


# --- /start and /help --------------------------------------------------------------------------


async def test_start_and_help_list_commands_and_whose_key_each_provider_uses(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog, gptunnel_api_key=GPTUNNEL_KEY) as iris:
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        start = text_of(await answer_to(iris, ALICE, "/start"))
        for command in ("/imagine", "/describe", "/keys", "/setkey", "/delkey", "/tasks", "/help"):
            assert command in start
        assert "GPTunnel: the bot's shared key" in start
        assert "AiLuna: your key" in start
        assert "CodexAeternum: no key" in start
        assert "DescribePicture: no key" in start
        assert text_of(await answer_to(iris, ALICE, "/help")) == start

        bobs = text_of(await answer_to(iris, BOB, "/help"))
        assert "GPTunnel: the bot's shared key" in bobs
        assert "AiLuna: no key" in bobs

        in_group = text_of(await answer_to(iris, BOB, "/help@iris_test_bot", chat=GROUP))
        assert "/imagine" in in_group


async def test_start_keys_deep_link_opens_key_setup_in_private_only(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        keys = text_of(await answer_to(iris, ALICE, "/start keys"))
        assert "Your keys" in keys
        assert mask(GPTUNNEL_KEY) in keys
        assert "🗑 Remove GPTunnel key" in [b.text for b in last_bot_message(iris, ALICE.id).buttons]

        in_group = text_of(await answer_to(iris, ALICE, "/start keys", chat=GROUP))
        assert "Your keys" not in in_group
        assert mask(GPTUNNEL_KEY) not in in_group


async def test_removing_a_codexaeternum_key_drops_its_session_token(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with watched(serve, tmp_path, caplog) as iris:
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        key = CodexAeternumCredential(CODEX_EMAIL, CODEX_SECRET).cache_key()
        assert await iris.app.storage.tokens.get(key) is not None
        mark = iris.api.mark()
        await iris.say(ALICE, "/delkey codexaeternum")
        await iris.reply(ALICE.id, after=mark)
        assert await iris.app.storage.tokens.get(key) is None
