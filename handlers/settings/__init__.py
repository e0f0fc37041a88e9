"""/settings (private chats): the user's preferences for providers, options and language;
/language anywhere."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from bot.filters import InPrivateChat
from handlers.settings.callbacks import LanguageAction, PreferenceAction, PreferenceButton
from handlers.settings.language import language_button, language_command
from handlers.settings.menu import (
    menu_button,
    open_button,
    pick_button,
    settings_command,
    settings_in_group,
)


def create_router() -> Router:
    """The settings router: /settings in private chats (refused in groups), /language anywhere."""
    router = Router(name="settings")
    router.message.register(settings_command, Command("settings"), InPrivateChat())
    router.message.register(settings_in_group, Command("settings"))
    router.message.register(language_command, Command("language"))
    for handler, action in (
        (menu_button, PreferenceButton.MENU),
        (open_button, PreferenceButton.OPEN),
        (pick_button, PreferenceButton.PICK),
    ):
        router.callback_query.register(
            handler, PreferenceAction.filter(F.action == action), InPrivateChat()
        )
    router.callback_query.register(language_button, LanguageAction.filter())
    return router
