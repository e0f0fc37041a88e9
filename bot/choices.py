"""Which provider a job goes to when the user does not say."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from bot.keyboards import deep_link_keyboard
from bot.providers import display_name

GENERATE_ORDER = ("gptunnel", "codexaeternum", "ailuna")
DESCRIBE_ORDER = ("describepicture", "codexaeternum")
KEYS_DEEP_LINK = "keys"


def choose_provider(
    *, requested: str | None, preferred: str | None, order: Sequence[str], usable: Collection[str]
) -> str | None:
    """The requested provider, else the preferred one, else the first usable in `order`."""
    if requested:
        return requested
    if preferred in order:
        return preferred
    return next((name for name in order if name in usable), None)


async def no_key_reply(bot: Bot, provider: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """The friendly "add a key" message, with a button into the private chat's key setup."""
    link = await create_start_link(bot, KEYS_DEEP_LINK)
    if provider is None:
        text = _("You have no key for a provider that can do this yet. Add one in private chat:")
    else:
        text = _("You have no {provider} key yet. Add one in private chat:").format(
            provider=display_name(provider)
        )
    return text, deep_link_keyboard(link)
