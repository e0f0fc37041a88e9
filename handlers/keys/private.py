"""Private chats: /setkey, /keys and /delkey, and the buttons of the /keys list."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.formatting import escape
from bot.keychain import KeyChain
from bot.providers import BY_ID, display_name
from bot.providers.description import ProviderDescription
from bot.telegram import delete_quietly, edit_text
from handlers.common.stale import no_longer_valid
from handlers.keys.callbacks import KeyAction, KeyButton
from handlers.keys.keyboards import keys_keyboard
from handlers.keys.texts import keys_text, provider_list, setkey_usage
from services.base import Credential, CredentialFormatError
from services.exceptions import AuthError, ServiceError
from services.registry import Providers

logger = logging.getLogger(__name__)


async def _keys_view(keychain: KeyChain, *, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The /keys text and keyboard: the user's keys, masked, and a button per provider."""
    masked = await keychain.masked(user_id)
    return keys_text(masked), keys_keyboard(masked)


async def show_keys(message: Message, keychain: KeyChain, *, user_id: int) -> None:
    """The user's keys, masked, with a button per provider to add or remove one."""
    text, markup = await _keys_view(keychain, user_id=user_id)
    await message.answer(text, reply_markup=markup)


async def keys_command(message: Message, keychain: KeyChain) -> None:
    """/keys: list the user's keys."""
    if message.from_user is not None:
        await show_keys(message, keychain, user_id=message.from_user.id)


async def setkey(
    message: Message, command: CommandObject, bot: Bot, keychain: KeyChain, providers: Providers
) -> None:
    """/setkey: delete the message carrying the secret, check the key where cheap, store it."""
    if message.from_user is None:
        return
    deleted = await delete_quietly(bot, chat_id=message.chat.id, message_id=message.message_id)
    text = await _store_key(command.args, keychain, providers, user_id=message.from_user.id)
    if not deleted:  # on every outcome: even a malformed /setkey may hold a secret
        text += "\n\n" + _("⚠️ I could not delete your message with the key. Please delete it.")
    await message.answer(text)


async def _store_key(
    args: str | None, keychain: KeyChain, providers: Providers, *, user_id: int
) -> str:
    """Parse, check and store the key of a /setkey; what to tell the user."""
    parts = (args or "").split()
    if not parts:
        return setkey_usage()
    provider, values = parts[0].lower(), parts[1:]
    description = BY_ID.get(provider)
    if description is None:
        # The unknown word is not echoed: it may be the key itself, typed without a provider.
        return (
            _("Unknown provider. Choose one of: {valid}.").format(valid=provider_list())
            + "\n\n"
            + setkey_usage()
        )
    name = description.display_name
    try:
        credential = description.credential.from_parts(values)
    except CredentialFormatError:
        return (
            _("That does not look like a valid {provider} key.").format(provider=name)
            + "\n\n"
            + setkey_usage(provider)
        )
    verdict = await _check(description, credential, providers)
    if verdict is False:
        return _("{provider} rejected this key. Check it and send it again.").format(provider=name)
    await keychain.store(user_id, credential)
    logger.info("user %d stored a %s key", user_id, provider)
    text = _("🔑 Saved your {provider} key: <code>{masked}</code>").format(
        provider=name, masked=escape(credential.masked())
    )
    if verdict is None:
        text += "\n" + _("I could not check it right now; it will be checked on first use.")
    return text


async def _check(
    description: ProviderDescription, credential: Credential, providers: Providers
) -> bool | None:
    """True if the provider accepted the key, False if it rejected it, None if unknown."""
    if description.key_check is None:
        return None  # no cheap call exists: checked at first use
    try:
        await description.key_check(providers, credential)
    except AuthError:
        return False
    except ServiceError as e:
        logger.info("could not check a %s key: %s", credential.provider, type(e).__name__)
        return None
    return True


async def delkey(message: Message, command: CommandObject, keychain: KeyChain) -> None:
    """/delkey <provider>: forget a stored key."""
    if message.from_user is None:
        return
    provider = (command.args or "").strip().lower()
    if provider not in BY_ID:
        await message.answer(
            _("Which key? Send /delkey and one of: {valid}.").format(valid=provider_list())
        )
        return
    await message.answer(await _remove(keychain, user_id=message.from_user.id, provider=provider))


async def _remove(keychain: KeyChain, *, user_id: int, provider: str) -> str:
    """Forget the key; what to tell the user about it."""
    if await keychain.remove(user_id, provider):
        text = _("🗑 Removed your {provider} key.")
    else:
        text = _("You had no {provider} key.")
    return text.format(provider=display_name(provider))


async def delete_button(
    query: CallbackQuery, callback_data: KeyAction, bot: Bot, keychain: KeyChain
) -> None:
    """🗑 on the /keys list: remove the key, say so, and refresh the list in place."""
    if callback_data.provider not in BY_ID or not isinstance(query.message, Message):
        await no_longer_valid(query, alert=False)
        return
    user_id = query.from_user.id
    await query.answer(await _remove(keychain, user_id=user_id, provider=callback_data.provider))
    text, markup = await _keys_view(keychain, user_id=user_id)
    await edit_text(
        bot,
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        text=text,
        reply_markup=markup,
    )


async def add_button(query: CallbackQuery, callback_data: KeyAction) -> None:
    """➕ on the /keys list: how to send that provider's key."""
    if callback_data.provider not in BY_ID or not isinstance(query.message, Message):
        await no_longer_valid(query, alert=False)
        return
    await query.message.answer(setkey_usage(callback_data.provider))
    await query.answer()


def create_router() -> Router:
    """The private chats' key handlers."""
    router = Router(name="keys_private")
    router.message.register(keys_command, Command("keys"))
    router.message.register(setkey, Command("setkey"))
    router.message.register(delkey, Command("delkey"))
    router.callback_query.register(delete_button, KeyAction.filter(F.action == KeyButton.DELETE))
    router.callback_query.register(add_button, KeyAction.filter(F.action == KeyButton.ADD))
    return router
