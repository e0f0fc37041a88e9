"""/settings and /language through the real bot: menus edited in place, choices stored and used."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.types import User as TelegramUser
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.i18n import create_i18n, pick_language
from bot.storage.users import UserRecord
from handlers.settings.callbacks import LanguageAction, PreferenceAction, PreferenceButton
from handlers.settings.entries import PREFERENCES
from playground.providers.ailuna import KEY_ALICE
from playground.telegram import ApiCall, Chat, Message, User
from services.ailuna import STYLES
from services.gptunnel import ASPECT_RATIOS
from tests.checks import photo_bytes
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
)

INVALID = "This button is no longer valid."
OVERVIEW = [
    "Generation provider: Automatic",
    "Describe provider: Automatic",
    "GPTunnel aspect ratio: 1:1",
    "AiLuna resolution: 1024x1024",
    "AiLuna style: None",
    "AiLuna medium: None",
    "AiLuna filter: None",
    "Language: Automatic",
]
SPANISH = {
    "Choose your language:": "Elige tu idioma:",
    "✅ I speak {language} with you now.": "✅ Ahora hablo {language} contigo.",
    "<b>Settings</b>": "<b>Ajustes</b>",
    "Language": "Idioma",
    "✅ {setting}: {value}": "✅ {setting}: {value} (es)",
}
"""A few Spanish translations, enough to see which language a reply is in."""


def texts(message: Message) -> list[str]:
    """The labels of a message's buttons, row by row."""
    return [b.text for b in message.buttons]


def edits_of(iris: Iris, message: Message, *, after: int) -> list[ApiCall]:
    """editMessageText calls aimed at one message since `after`."""
    return [
        call
        for call in iris.api.calls[after:]
        if call.method == "editMessageText"
        and int(call.params["chat_id"]) == message.chat_id
        and int(call.params["message_id"]) == message.message_id
    ]


async def command(iris: Iris, user: User, text: str, *, chat: Chat | None = None) -> Message:
    """The bot's message answering a command (the menu, for /settings and /language)."""
    mark = iris.api.mark()
    sent = await iris.say(user, text, chat=chat)
    await iris.reply(sent.chat_id, after=mark)
    return iris.api.bot_messages(sent.chat_id)[-1]


async def press(iris: Iris, user: User, message: Message, label: str) -> tuple[Message, str | None]:
    """Press the button with this label; the message as it is once the press is answered."""
    found = [b for b in message.buttons if b.text == label]
    assert found, f"no button {label!r} in {texts(message)}"
    assert found[0].callback_data is not None
    return await press_data(iris, user, message, found[0].callback_data)


async def press_data(
    iris: Iris, user: User, message: Message, data: str
) -> tuple[Message, str | None]:
    """Press a button by its callback data; the message afterwards and the answer's text."""
    query = iris.api.press(user, message, data)
    await iris.api.wait_until(lambda: iris.api.answers(query) is not None)
    answer = iris.api.answers(query)
    assert answer is not None
    return iris.api.message(message.chat_id, message.message_id), answer.text


async def forge(iris: Iris, user: User, data: str) -> Message:
    """A bot message carrying a button with `data`, as a stale or forged button would."""
    markup = InlineKeyboardMarkup.model_validate(
        {"inline_keyboard": [[{"text": "forged", "callback_data": data}]]}
    )
    iris.api.add_member(Chat.private(user), user)
    sent = await iris.app.bot.send_message(user.id, "menu", reply_markup=markup)
    return iris.api.message(user.id, sent.message_id)


async def record(iris: Iris, user: User) -> UserRecord:
    """The user as stored."""
    found = await iris.app.storage.users.get(user.id)
    assert found is not None
    return found


# --- the menu ----------------------------------------------------------------------------------


SUBMENUS = [
    ("Generation provider: Automatic", ["✅ Automatic", "GPTunnel", "CodexAeternum", "AiLuna"]),
    ("Describe provider: Automatic", ["✅ Automatic", "DescribePicture", "CodexAeternum"]),
    ("GPTunnel aspect ratio: 1:1", ["✅ 1:1", *ASPECT_RATIOS[1:]]),
    ("AiLuna resolution: 1024x1024", ["256x256", "512x512", "✅ 1024x1024"]),
    ("AiLuna style: None", ["✅ None", *STYLES]),
    ("AiLuna medium: None", ["✅ None", "acrylic", "canvas", "chalk", "charcoal", "crayon"]),
    ("AiLuna filter: None", ["✅ None", "grayscale", "sepia", "invert"]),
    ("Language: Automatic", ["✅ Automatic", "English", "Español", "Русский", "中文"]),
]


async def test_every_submenu_opens_in_place_and_goes_back(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        menu = await command(iris, ALICE, "/settings")
        assert menu.text is not None
        assert menu.text.startswith("Settings\n")
        assert texts(menu) == OVERVIEW
        for entry, choices in SUBMENUS:
            mark = iris.api.mark()
            submenu, answer = await press(iris, ALICE, menu, entry)
            assert answer is None
            assert len(edits_of(iris, menu, after=mark)) == 1
            assert submenu.text is not None
            assert submenu.text.startswith(entry.split(":")[0])
            shown = texts(submenu)
            assert shown[: len(choices)] == choices
            assert shown[-1] == "« Back"
            menu, _ = await press(iris, ALICE, submenu, "« Back")
            assert texts(menu) == OVERVIEW
        assert len(iris.api.bot_messages(ALICE.id)) == 1  # all in one message
        assert (await record(iris, ALICE)).preferences == {}


CHOICES = [
    ("Generation provider", "CodexAeternum", "generate_provider", "codexaeternum"),
    ("Describe provider", "CodexAeternum", "describe_provider", "codexaeternum"),
    ("GPTunnel aspect ratio", "21:9", "gptunnel.ar", "21:9"),
    ("AiLuna resolution", "512x512", "ailuna.res", "512x512"),
    ("AiLuna style", "digital_art", "ailuna.style", "digital_art"),
    ("AiLuna medium", "spray_paint", "ailuna.medium", "spray_paint"),
    ("AiLuna filter", "sepia", "ailuna.filter", "sepia"),
]


async def test_each_choice_is_stored_at_once_and_the_menu_shows_it(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        menu = await command(iris, ALICE, "/settings")
        expected: dict[str, str] = {}
        for title, label, key, value in CHOICES:
            current = next(text for text in texts(menu) if text.startswith(title + ":"))
            submenu, _ = await press(iris, ALICE, menu, current)
            mark = iris.api.mark()
            menu, answer = await press(iris, ALICE, submenu, label)
            assert answer == f"✅ {title}: {label}"
            assert len(edits_of(iris, menu, after=mark)) == 1
            assert f"{title}: {label}" in texts(menu)
            expected[key] = value
            assert (await record(iris, ALICE)).preferences == expected
            submenu, _ = await press(iris, ALICE, menu, f"{title}: {label}")
            assert f"✅ {label}" in texts(submenu)
            assert sum(text.startswith("✅") for text in texts(submenu)) == 1
            menu, _ = await press(iris, ALICE, submenu, "« Back")

        # Automatic and None clear a setting; the options with a default are set back to it.
        for title, was, label, key in [
            ("Generation provider", "CodexAeternum", "Automatic", "generate_provider"),
            ("AiLuna style", "digital_art", "None", "ailuna.style"),
        ]:
            submenu, _ = await press(iris, ALICE, menu, f"{title}: {was}")
            menu, answer = await press(iris, ALICE, submenu, label)
            assert answer == f"✅ {title}: {label}"
            assert f"{title}: {label}" in texts(menu)
            del expected[key]
            assert (await record(iris, ALICE)).preferences == expected
        submenu, _ = await press(iris, ALICE, menu, "GPTunnel aspect ratio: 21:9")
        assert "Automatic" not in texts(submenu)
        assert "None" not in texts(submenu)
        menu, _ = await press(iris, ALICE, submenu, "1:1")
        assert (await record(iris, ALICE)).preferences["gptunnel.ar"] == "1:1"
        assert (await iris.app.storage.users.get(BOB.id)) is None  # nobody else touched


async def test_settings_persist_across_a_restart_and_imagine_uses_them(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        menu = await command(iris, ALICE, "/settings")
        submenu, _ = await press(iris, ALICE, menu, "GPTunnel aspect ratio: 1:1")
        await press(iris, ALICE, submenu, "16:9")

        await iris.restart()
        menu = await command(iris, ALICE, "/settings")
        assert "GPTunnel aspect ratio: 16:9" in texts(menu)

        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine x")
        await iris.api.wait_for("sendPhoto", after=mark)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine y --ar 1:1")
        await iris.api.wait_for("sendPhoto", after=mark)
        assert [(t.prompt, t.ar) for t in iris.gptunnel.tasks.values()] == [
            ("x", "16:9"),
            ("y", "1:1"),
        ]


async def test_generation_provider_and_ailuna_defaults_reach_ailuna(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "gptunnel", GPTUNNEL_KEY)
        await iris.set_key(ALICE, "ailuna", KEY_ALICE)
        menu = await command(iris, ALICE, "/settings")
        for entry, label in [
            ("Generation provider: Automatic", "AiLuna"),
            ("AiLuna style: None", "anime"),
            ("AiLuna medium: None", "ink"),
            ("AiLuna filter: None", "grayscale"),
            ("AiLuna resolution: 1024x1024", "256x256"),
        ]:
            submenu, _ = await press(iris, ALICE, menu, entry)
            menu, _ = await press(iris, ALICE, submenu, label)
        mark = iris.api.mark()
        await iris.say(ALICE, "/imagine a fox --filter sepia")
        await iris.api.wait_for("sendPhoto", after=mark)
        [image] = iris.ailuna.images.values()
        assert (image.resolution, image.style, image.medium, image.filter) == (
            "256x256",
            "anime",
            "ink",
            "sepia",  # typed in the text: it wins
        )
        assert iris.gptunnel.tasks == {}


async def test_describe_provider_setting_routes_photos(serve: Serve, tmp_path: Path) -> None:
    photo = photo_bytes(seed=3)
    async with iris_running(serve, tmp_path) as iris:
        await iris.set_key(ALICE, "describepicture", DESCRIBE_APP_ID)
        await iris.set_key(ALICE, "codexaeternum", CODEX_EMAIL, CODEX_SECRET)
        menu = await command(iris, ALICE, "/settings")
        submenu, _ = await press(iris, ALICE, menu, "Describe provider: Automatic")
        await press(iris, ALICE, submenu, "CodexAeternum")
        mark = iris.api.mark()
        iris.api.send_photo(ALICE, Chat.private(ALICE), photo)
        status = await iris.api.wait_for("sendMessage", after=mark)
        assert "with CodexAeternum" in str(status.params["text"])
        await iris.api.wait_until(lambda: iris.codex.described == [photo])
        assert iris.describepicture.payloads == []


FORGED = [
    PreferenceAction(action=PreferenceButton.PICK, preference="gen", value="openai").pack(),
    PreferenceAction(action=PreferenceButton.PICK, preference="desc", value="gptunnel").pack(),
    PreferenceAction(action=PreferenceButton.PICK, preference="ar", value="5x4").pack(),
    PreferenceAction(action=PreferenceButton.PICK, preference="ar", value="-").pack(),
    PreferenceAction(action=PreferenceButton.PICK, preference="style", value="Anime").pack(),
    PreferenceAction(action=PreferenceButton.PICK, preference="lang", value="fr").pack(),
    PreferenceAction(action=PreferenceButton.PICK, preference="nosuch", value="x").pack(),
    PreferenceAction(action=PreferenceButton.OPEN, preference="nosuch").pack(),
    LanguageAction(language="fr").pack(),
    LanguageAction(language="").pack(),
]


async def test_forged_values_are_refused_and_nothing_is_stored(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        for data in FORGED:
            message = await forge(iris, ALICE, data)
            mark = iris.api.mark()
            after, answer = await press_data(iris, ALICE, message, data)
            assert answer == INVALID, data
            assert edits_of(iris, message, after=mark) == []
            assert after.text == "menu"
        user = await record(iris, ALICE)
        assert (user.preferences, user.language) == ({}, None)


def test_every_button_fits_in_callback_data() -> None:
    packed = [
        PreferenceAction(action=PreferenceButton.PICK, preference=setting.code, value=value).pack()
        for setting in PREFERENCES
        for value in setting.buttons()
    ]
    assert len(packed) == len(set(packed))
    assert max(len(data.encode()) for data in packed) <= 64
    assert (
        PreferenceAction(action=PreferenceButton.PICK, preference="ar", value="16x9").pack()
        in packed
    )


async def test_settings_in_a_group_sends_the_user_to_private_chat(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        mark = iris.api.mark()
        sent = await iris.say(ALICE, "/settings@iris_test_bot", chat=GROUP)
        reply = await iris.reply(GROUP.id, after=mark)
        assert "private chat" in str(reply.params["text"])
        assert int(reply.params["reply_parameters"]["message_id"]) == sent.message_id
        keyboard = reply.params["reply_markup"]["inline_keyboard"]
        assert [[b.get("url") for b in row] for row in keyboard] == [["https://t.me/iris_test_bot"]]
        assert (await record(iris, ALICE)).preferences == {}


# --- language ----------------------------------------------------------------------------------


@pytest.fixture
def spanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot loads a Spanish catalog with a few messages translated."""
    catalog = Catalog(locale="es", domain="messages")
    for english, translated in SPANISH.items():
        catalog.add(english, translated)
    path = tmp_path / "locales" / "es" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr("bot.i18n.LOCALES_DIR", tmp_path / "locales")


LANGUAGE_BUTTONS = ["English", "Español", "Русский", "中文", "🌐 Automatic (Telegram's language)"]


@pytest.mark.usefixtures("spanish")
async def test_language_is_stored_and_confirmed_in_the_new_language(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        menu = await command(iris, ALICE, "/language")
        assert menu.text == "Choose your language:"
        assert texts(menu) == [*LANGUAGE_BUTTONS[:4], "✅ " + LANGUAGE_BUTTONS[4]]

        mark = iris.api.mark()
        confirmed, _ = await press(iris, ALICE, menu, "Español")
        assert len(edits_of(iris, menu, after=mark)) == 1
        assert confirmed.text == "✅ Ahora hablo Español contigo."
        assert "✅ Español" in texts(confirmed)
        assert (await record(iris, ALICE)).language == "es"

        again = await command(iris, ALICE, "/language")
        assert again.text == "Elige tu idioma:"
        assert "✅ Español" in texts(again)

        back, _ = await press(iris, ALICE, again, LANGUAGE_BUTTONS[4])
        assert back.text == "✅ I follow your Telegram app's language: English."
        assert (await record(iris, ALICE)).language is None
        assert (await command(iris, ALICE, "/language")).text == "Choose your language:"

        # Automatic: a Latin American Spanish Telegram app gets Spanish.
        pablo = User(id=1003, first_name="Pablo", language_code="es-419")
        assert (await command(iris, pablo, "/language")).text == "Elige tu idioma:"
        assert (await record(iris, pablo)).language is None
        assert (await record(iris, pablo)).telegram_language == "es-419"


@pytest.mark.usefixtures("spanish")
async def test_language_chosen_in_settings_redraws_the_menu_in_it(
    serve: Serve, tmp_path: Path
) -> None:
    async with iris_running(serve, tmp_path) as iris:
        menu = await command(iris, ALICE, "/settings")
        submenu, _ = await press(iris, ALICE, menu, "Language: Automatic")
        menu, answer = await press(iris, ALICE, submenu, "Español")
        assert answer == "✅ Idioma: Español (es)"
        assert menu.text is not None
        assert menu.text.startswith("Ajustes\n")
        assert "Idioma: Español" in texts(menu)
        assert (await record(iris, ALICE)).language == "es"

        await iris.restart()
        assert (await command(iris, ALICE, "/language")).text == "Elige tu idioma:"


async def test_language_works_in_groups_for_whoever_presses(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        menu = await command(iris, ALICE, "/language@iris_test_bot", chat=GROUP)
        assert texts(menu) == LANGUAGE_BUTTONS  # nobody's choice is marked for everyone
        mark = iris.api.mark()
        after, answer = await press(iris, BOB, menu, "Русский")
        in_russian = create_i18n("en").gettext("✅ I speak {language} with you now.", locale="ru")
        assert answer == in_russian.format(language="Русский")
        assert edits_of(iris, menu, after=mark) == []  # the buttons stay for the others
        assert texts(after) == LANGUAGE_BUTTONS
        assert (await record(iris, BOB)).language == "ru"
        assert (await record(iris, ALICE)).language is None


def telegram_user(language_code: str | None) -> TelegramUser:
    return TelegramUser(id=1, is_bot=False, first_name="A", language_code=language_code)


def user_record(language: str | None) -> UserRecord:
    return UserRecord(id=1, language=language, telegram_language=None, preferences={}, active=True)


@pytest.mark.parametrize(
    ("stored", "code", "expected"),
    [
        (None, "zh-hans", "zh"),
        (None, "es-419", "es"),
        (None, "ru", "ru"),
        (None, "pt_BR", "ru"),
        (None, "fr", "ru"),
        (None, None, "ru"),
        ("es", "zh-hans", "es"),
        ("fr", "zh-hans", "zh"),  # a stored value that is no language is ignored
    ],
)
def test_pick_language(stored: str | None, code: str | None, expected: str) -> None:
    assert pick_language(user_record(stored), telegram_user(code), "ru") == expected


def test_pick_language_without_user() -> None:
    assert pick_language(None, None, "en") == "en"
    assert pick_language(None, telegram_user("ZH-Hant"), "en") == "zh"
