"""The command menus: per language, with one list for private chats, groups and admins."""

from __future__ import annotations

import logging
from collections.abc import Collection

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES

logger = logging.getLogger(__name__)


def _descriptions() -> dict[str, str]:
    return {
        "imagine": _("Generate an image from text"),
        "describe": _("Describe a photo (reply to it)"),
        "gallery": _("Your AiLuna images"),
        "keys": _("Your provider keys"),
        "setkey": _("Add a provider key"),
        "delkey": _("Remove a provider key"),
        "settings": _("Default providers and options"),
        "balance": _("Credits and quota"),
        "tasks": _("Your running jobs"),
        "language": _("Choose the language"),
        "help": _("What I can do (also inline: @ and my name in any chat)"),
        "stats": _("Usage statistics (admins)"),
    }


PRIVATE = ("imagine", "describe", "gallery", "settings", "keys", "setkey", "delkey", "balance",
           "tasks", "language", "help")  # fmt: skip
GROUP = ("imagine", "describe", "tasks", "balance", "language", "help")
ADMIN = (*PRIVATE, "stats")


def menu(names: tuple[str, ...]) -> list[BotCommand]:
    """The commands of one menu, described in the current language."""
    descriptions = _descriptions()
    return [BotCommand(command=name, description=descriptions[name]) for name in names]


async def register_commands(bot: Bot, i18n: I18n, *, admin_ids: Collection[int]) -> None:
    """Set every menu for every language; English is also the menu of any other language."""
    try:
        for language in LANGUAGES:
            with i18n.context(), i18n.use_locale(language):
                codes = [language, None] if language == "en" else [language]
                for code in codes:
                    await bot.set_my_commands(
                        menu(PRIVATE), scope=BotCommandScopeAllPrivateChats(), language_code=code
                    )
                    await bot.set_my_commands(
                        menu(GROUP), scope=BotCommandScopeAllGroupChats(), language_code=code
                    )
                    for admin in admin_ids:
                        await bot.set_my_commands(
                            menu(ADMIN),
                            scope=BotCommandScopeChat(chat_id=admin),
                            language_code=code,
                        )
    except TelegramAPIError as e:
        # Menus are a convenience: the bot works without them, so a failure only warns.
        logger.warning("could not set the command menus: %s", type(e).__name__)
