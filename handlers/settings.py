"""/settings (private chats): defaults for providers, options and language; /language anywhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import LanguageAction, SettingsAction, SettingsButton
from bot.choices import DESCRIBE_ORDER, GENERATE_ORDER
from bot.config import LANGUAGES
from bot.filters import InPrivateChat
from bot.i18n import pick_language
from bot.keyboards import (
    language_keyboard,
    private_chat_keyboard,
    settings_choices_keyboard,
    settings_menu_keyboard,
)
from bot.preferences import DESCRIBE_PROVIDER, GENERATE_PROVIDER, option_key
from bot.providers import display_name
from bot.storage import Storage
from bot.storage.users import UserRecord, Users
from bot.telegram import edit_text
from services.ailuna import AiLunaClient
from services.base import ImageGenerator
from services.gptunnel import GPTunnelClient

logger = logging.getLogger(__name__)

UNSET = "-"
"""The callback value of "Automatic" and "None": the setting is cleared, the default applies."""

LANGUAGE_NAMES = {"en": "English", "es": "Español", "ru": "Русский", "zh": "中文"}
"""Each language in itself, so anyone finds theirs whatever language the bot speaks now."""


def _automatic() -> str:
    return _("Automatic")


def _no_value() -> str:
    return _("None")


def _encode(value: str) -> str:
    """A value as callback data carries it: ":" separates the fields there."""
    return value.replace(":", "x")


@dataclass(frozen=True, slots=True)
class Setting:
    """One entry of the /settings menu and the values it may take."""

    code: str
    """Its name in callback data: short, so every button stays under Telegram's 64 bytes."""
    key: str | None
    """Its name in users.settings; None for the language, kept in users.language."""
    choices: tuple[str, ...]
    title: Callable[[], str]
    hint: Callable[[], str]
    label: Callable[[str], str]
    default: str | None = None
    """What applies when nothing is stored; None offers "unset" as a choice of its own."""
    unset_label: Callable[[], str] = _no_value

    def current(self, user: UserRecord) -> str | None:
        """The value in force for the user: the stored one if still valid, else the default."""
        stored = user.language if self.key is None else user.settings.get(self.key)
        return stored if stored in self.choices else self.default

    def buttons(self) -> dict[str, str | None]:
        """Every value by its callback value, "unset" (None) first when it is a choice."""
        found: dict[str, str | None] = {} if self.default is not None else {UNSET: None}
        found.update((_encode(choice), choice) for choice in self.choices)
        return found

    def describe(self, value: str | None) -> str:
        """How a value is shown."""
        return self.unset_label() if value is None else self.label(value)


def _as_is(value: str) -> str:
    return value


def _option(
    code: str, client: type[ImageGenerator[Any]], option: str, title: Callable[[], str]
) -> Setting:
    """A provider option's default, with the values and default the provider declares."""
    spec = next(spec for spec in client.options if spec.name == option)
    provider = client.name
    return Setting(
        code=code,
        key=option_key(provider, option),
        choices=spec.choices,
        title=title,
        hint=lambda: _("{provider} uses it when /imagine has no --{option}.").format(
            provider=display_name(provider), option=option
        ),
        label=_as_is,
        default=spec.default,
    )


LANGUAGE_SETTING = Setting(
    code="lang",
    key=None,
    choices=LANGUAGES,
    title=lambda: _("Language"),
    hint=lambda: _("Automatic: the language of your Telegram app."),
    label=LANGUAGE_NAMES.__getitem__,
    unset_label=_automatic,
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        code="gen",
        key=GENERATE_PROVIDER,
        choices=GENERATE_ORDER,
        title=lambda: _("Generation provider"),
        hint=lambda: _(
            "/imagine uses it when you name no --provider. "
            "Automatic: the first one you have a key for."
        ),
        label=display_name,
        unset_label=_automatic,
    ),
    Setting(
        code="desc",
        key=DESCRIBE_PROVIDER,
        choices=DESCRIBE_ORDER,
        title=lambda: _("Describe provider"),
        hint=lambda: _(
            "Photos go to it when you name no --provider. "
            "Automatic: the first one you have a key for."
        ),
        label=display_name,
        unset_label=_automatic,
    ),
    _option("ar", GPTunnelClient, "ar", lambda: _("GPTunnel aspect ratio")),
    _option("res", AiLunaClient, "res", lambda: _("AiLuna resolution")),
    _option("style", AiLunaClient, "style", lambda: _("AiLuna style")),
    _option("medium", AiLunaClient, "medium", lambda: _("AiLuna medium")),
    _option("filter", AiLunaClient, "filter", lambda: _("AiLuna filter")),
    LANGUAGE_SETTING,
)
_BY_CODE = {setting.code: setting for setting in SETTINGS}


def _menu(user: UserRecord) -> tuple[str, InlineKeyboardMarkup]:
    """The overview: every setting with the value in force, each a button to its submenu."""
    text = "\n".join(
        [
            _("<b>Settings</b>"),
            _("Tap one to change it. Options you type (--provider, --ar, ...) still win."),
        ]
    )
    entries = [(f"{s.title()}: {s.describe(s.current(user))}", s.code) for s in SETTINGS]
    return text, settings_menu_keyboard(entries)


def _submenu(setting: Setting, user: UserRecord) -> tuple[str, InlineKeyboardMarkup]:
    """One setting's values, the one in force marked."""
    text = f"<b>{setting.title()}</b>\n{setting.hint()}"
    current = setting.current(user)
    choices = [(setting.describe(value), code) for code, value in setting.buttons().items()]
    marked = UNSET if current is None else _encode(current)
    return text, settings_choices_keyboard(setting.code, choices, current=marked)


async def _store_choice(
    users: Users, *, user_id: int, setting: Setting, value: str | None
) -> UserRecord:
    """Keep the choice (None clears it) and return the user as now stored."""
    if setting.key is None:
        await users.set_language(user_id, value)
    else:
        await users.set_setting(user_id, setting.key, value)
    logger.info("user %d set %s to %s", user_id, setting.code, value or "the default")
    user = await users.get(user_id)
    if user is None:
        raise RuntimeError("the user row vanished right after it was written")
    return user


async def _invalid(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer valid."))


async def _redraw(bot: Bot, message: Message, view: tuple[str, InlineKeyboardMarkup]) -> None:
    """Show the view in place of the message whose button was pressed."""
    text, markup = view
    await edit_text(
        bot, chat_id=message.chat.id, message_id=message.message_id, text=text, reply_markup=markup
    )


async def settings_command(message: Message, user_record: UserRecord) -> None:
    """/settings: the overview menu."""
    text, markup = _menu(user_record)
    await message.answer(text, reply_markup=markup)


async def settings_in_group(message: Message, bot: Bot) -> None:
    """/settings in a group: settings are personal, so they are changed in private chat."""
    me = await bot.me()
    markup = private_chat_keyboard(f"https://t.me/{me.username}") if me.username else None
    await message.reply(
        _("Settings are changed in private chat: open it and send /settings there."),
        reply_markup=markup,
    )


async def menu_button(query: CallbackQuery, bot: Bot, user_record: UserRecord) -> None:
    """« Back: the overview again."""
    if not isinstance(query.message, Message):
        await _invalid(query)
        return
    await _redraw(bot, query.message, _menu(user_record))
    await query.answer()


async def open_button(
    query: CallbackQuery, callback_data: SettingsAction, bot: Bot, user_record: UserRecord
) -> None:
    """A setting of the overview: its values."""
    setting = _BY_CODE.get(callback_data.setting)
    if setting is None or not isinstance(query.message, Message):
        await _invalid(query)
        return
    await _redraw(bot, query.message, _submenu(setting, user_record))
    await query.answer()


async def pick_button(
    query: CallbackQuery, callback_data: SettingsAction, bot: Bot, storage: Storage, i18n: I18n
) -> None:
    """A value of a submenu: store it at once, then the overview, in the (new) language."""
    setting = _BY_CODE.get(callback_data.setting)
    buttons = setting.buttons() if setting is not None else {}
    if setting is None or callback_data.value not in buttons:
        await _invalid(query)
        return
    value = buttons[callback_data.value]
    user = await _store_choice(
        storage.users, user_id=query.from_user.id, setting=setting, value=value
    )
    with i18n.use_locale(pick_language(user, query.from_user, i18n.default_locale)):
        if isinstance(query.message, Message):
            await _redraw(bot, query.message, _menu(user))
        await query.answer(
            _("✅ {setting}: {value}").format(
                setting=setting.title(), value=setting.describe(value)
            )
        )


def _language_choices() -> list[tuple[str, str]]:
    """The /language buttons: every language in itself, then Telegram's."""
    return [
        *((LANGUAGE_NAMES[language], language) for language in LANGUAGES),
        (_("🌐 Automatic (Telegram's language)"), UNSET),
    ]


async def language_command(message: Message, user_record: UserRecord) -> None:
    """/language: a button per language; in private chat the user's choice is marked."""
    current: str | None = None
    if message.chat.type == ChatType.PRIVATE:
        current = user_record.language if user_record.language in LANGUAGES else UNSET
    await message.reply(
        _("Choose your language:"),
        reply_markup=language_keyboard(_language_choices(), current=current),
    )


async def language_button(
    query: CallbackQuery, callback_data: LanguageAction, bot: Bot, storage: Storage, i18n: I18n
) -> None:
    """A /language button: store the choice and confirm in the language chosen.

    In private chat the message becomes the confirmation; in a group it stays for the others
    and only the one who pressed sees the confirmation.
    """
    buttons = LANGUAGE_SETTING.buttons()
    if callback_data.language not in buttons:
        await _invalid(query)
        return
    value = buttons[callback_data.language]
    user = await _store_choice(
        storage.users, user_id=query.from_user.id, setting=LANGUAGE_SETTING, value=value
    )
    language = pick_language(user, query.from_user, i18n.default_locale)
    with i18n.use_locale(language):
        if value is None:
            text = _("✅ I follow your Telegram app's language: {language}.")
        else:
            text = _("✅ I speak {language} with you now.")
        text = text.format(language=LANGUAGE_NAMES[language])
        if isinstance(query.message, Message) and query.message.chat.type == ChatType.PRIVATE:
            await _redraw(
                bot,
                query.message,
                (text, language_keyboard(_language_choices(), current=callback_data.language)),
            )
            await query.answer()
        else:
            await query.answer(text)


def create_router() -> Router:
    """The settings router: /settings in private chats (refused in groups), /language anywhere."""
    router = Router(name="settings")
    router.message.register(settings_command, Command("settings"), InPrivateChat())
    router.message.register(settings_in_group, Command("settings"))
    router.message.register(language_command, Command("language"))
    for handler, action in (
        (menu_button, SettingsButton.MENU),
        (open_button, SettingsButton.OPEN),
        (pick_button, SettingsButton.PICK),
    ):
        router.callback_query.register(
            handler, SettingsAction.filter(F.action == action), InPrivateChat()
        )
    router.callback_query.register(language_button, LanguageAction.filter())
    return router
