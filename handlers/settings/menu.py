"""/settings (private chats): the overview of the user's preferences and a submenu for each."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import pick_language
from bot.storage import Storage
from bot.storage.interfaces import Users
from bot.storage.users import UserRecord
from bot.telegram import edit_text
from handlers.common.stale import no_longer_valid
from handlers.settings.callbacks import PreferenceAction
from handlers.settings.entries import BY_CODE, PREFERENCES, UNSET, Preference, encode
from handlers.settings.keyboards import choices_keyboard, menu_keyboard, private_chat_keyboard

logger = logging.getLogger(__name__)


def _menu(user: UserRecord) -> tuple[str, InlineKeyboardMarkup]:
    """The overview: every preference with the value in force, each a button to its submenu."""
    text = "\n".join(
        [
            _("<b>Settings</b>"),
            _("Tap one to change it. Options you type (--provider, --ar, ...) still win."),
        ]
    )
    entries = [(f"{p.title()}: {p.describe(p.current(user))}", p.code) for p in PREFERENCES]
    return text, menu_keyboard(entries)


def _submenu(preference: Preference, user: UserRecord) -> tuple[str, InlineKeyboardMarkup]:
    """One preference's values, the one in force marked."""
    text = f"<b>{preference.title()}</b>\n{preference.hint()}"
    current = preference.current(user)
    choices = [(preference.describe(value), code) for code, value in preference.buttons().items()]
    marked = UNSET if current is None else encode(current)
    return text, choices_keyboard(preference.code, choices, current=marked)


async def store_choice(
    users: Users, *, user_id: int, preference: Preference, value: str | None
) -> UserRecord:
    """Keep the choice (None clears it) and return the user as now stored."""
    if preference.key is None:
        await users.set_language(user_id, value)
    else:
        await users.set_preference(user_id, preference.key, value)
    logger.info("user %d set %s to %s", user_id, preference.code, value or "the default")
    user = await users.get(user_id)
    if user is None:
        raise RuntimeError("the user row vanished right after it was written")
    return user


async def redraw(bot: Bot, message: Message, view: tuple[str, InlineKeyboardMarkup]) -> None:
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
    """/settings in a group: preferences are personal, so they are changed in private chat."""
    me = await bot.me()
    markup = private_chat_keyboard(f"https://t.me/{me.username}") if me.username else None
    await message.reply(
        _("Settings are changed in private chat: open it and send /settings there."),
        reply_markup=markup,
    )


async def menu_button(query: CallbackQuery, bot: Bot, user_record: UserRecord) -> None:
    """« Back: the overview again."""
    if not isinstance(query.message, Message):
        await no_longer_valid(query, alert=False)
        return
    await redraw(bot, query.message, _menu(user_record))
    await query.answer()


async def open_button(
    query: CallbackQuery, callback_data: PreferenceAction, bot: Bot, user_record: UserRecord
) -> None:
    """A preference of the overview: its values."""
    preference = BY_CODE.get(callback_data.preference)
    if preference is None or not isinstance(query.message, Message):
        await no_longer_valid(query, alert=False)
        return
    await redraw(bot, query.message, _submenu(preference, user_record))
    await query.answer()


async def pick_button(
    query: CallbackQuery, callback_data: PreferenceAction, bot: Bot, storage: Storage, i18n: I18n
) -> None:
    """A value of a submenu: store it at once, then the overview, in the (new) language."""
    preference = BY_CODE.get(callback_data.preference)
    buttons = preference.buttons() if preference is not None else {}
    if preference is None or callback_data.value not in buttons:
        await no_longer_valid(query, alert=False)
        return
    value = buttons[callback_data.value]
    user = await store_choice(
        storage.users, user_id=query.from_user.id, preference=preference, value=value
    )
    with i18n.use_locale(pick_language(user, query.from_user, i18n.default_locale)):
        if isinstance(query.message, Message):
            await redraw(bot, query.message, _menu(user))
        await query.answer(
            _("✅ {setting}: {value}").format(
                setting=preference.title(), value=preference.describe(value)
            )
        )
