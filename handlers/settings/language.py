"""/language in any chat: a button per language, the choice stored as the user's preference."""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES
from bot.i18n import pick_language
from bot.storage import Storage
from bot.storage.users import UserRecord
from handlers.common.stale import no_longer_valid
from handlers.settings.callbacks import LanguageAction
from handlers.settings.entries import LANGUAGE_NAMES, LANGUAGE_PREFERENCE, UNSET
from handlers.settings.keyboards import language_keyboard
from handlers.settings.menu import redraw, store_choice


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
    buttons = LANGUAGE_PREFERENCE.buttons()
    if callback_data.language not in buttons:
        await no_longer_valid(query, alert=False)
        return
    value = buttons[callback_data.language]
    user = await store_choice(
        storage.users, user_id=query.from_user.id, preference=LANGUAGE_PREFERENCE, value=value
    )
    language = pick_language(user, query.from_user, i18n.default_locale)
    with i18n.use_locale(language):
        if value is None:
            text = _("✅ I follow your Telegram app's language: {language}.")
        else:
            text = _("✅ I speak {language} with you now.")
        text = text.format(language=LANGUAGE_NAMES[language])
        if isinstance(query.message, Message) and query.message.chat.type == ChatType.PRIVATE:
            await redraw(
                bot,
                query.message,
                (text, language_keyboard(_language_choices(), current=callback_data.language)),
            )
            await query.answer()
        else:
            await query.answer(text)
