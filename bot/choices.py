"""Which provider a job goes to, and what the user is told when there is none."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from bot.formatting import escape
from bot.keyboards import deep_link_keyboard
from bot.keychain import CredentialSource, KeyChain
from bot.options import MISSING_VALUE, OptionSyntaxError
from bot.providers import DESCRIBE_ORDER, GENERATE_ORDER, display_name

__all__ = ["DESCRIBE_ORDER", "GENERATE_ORDER"]  # imported from here by the job handlers
KEYS_DEEP_LINK = "keys"


@dataclass(frozen=True, slots=True)
class Choice:
    """The provider a job goes to, and whose credential pays for it."""

    provider: str
    source: CredentialSource


def option_error_text(error: OptionSyntaxError) -> str:
    """What is wrong with an option as typed, in the user's language."""
    if error.problem == MISSING_VALUE:
        text = _("Option --{option} needs a value after it.")
    else:
        text = _("Option --{option} is given twice with different values: keep one.")
    return text.format(option=escape(error.option))


async def pick_provider(
    message: Message,
    *,
    bot: Bot,
    keychain: KeyChain,
    requested: str | None,
    preferred: str | None,
    order: Sequence[str],
    unsupported: str,
) -> Choice | None:
    """The provider for a job, or None once the user has been told why there is none.

    `order` lists the providers that can do the job; `unsupported` is the reply for any other,
    with {name} and {valid} to fill in.
    """
    assert message.from_user is not None
    usable = await keychain.sources(message.from_user.id)
    provider = choose_provider(requested=requested, preferred=preferred, order=order, usable=usable)
    if provider is not None and provider not in order:
        await message.reply(unsupported.format(name=escape(provider), valid=", ".join(order)))
        return None
    if provider is None or provider not in usable:
        text, keyboard = await no_key_reply(bot, provider)
        await message.reply(text, reply_markup=keyboard)
        return None
    return Choice(provider, usable[provider])


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
