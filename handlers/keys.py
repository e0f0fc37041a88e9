"""Private chats: /setkey, /keys and /delkey, and the buttons of the /keys list."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import KeyAction, KeyButton
from bot.filters import InPrivateChat
from bot.formatting import escape
from bot.keyboards import keys_keyboard
from bot.keychain import KeyChain
from bot.providers import DISPLAY_NAMES, display_name
from bot.telegram import delete_quietly, edit_text
from services.ailuna import AiLunaCredential
from services.base import Credential, CredentialFormatError
from services.codexaeternum import CodexAeternumCredential
from services.exceptions import AuthError, ServiceError
from services.registry import Providers

logger = logging.getLogger(__name__)


_USAGE = {
    "gptunnel": "<code>/setkey gptunnel API_KEY</code>",
    "codexaeternum": "<code>/setkey codexaeternum you@example.com SECRET_TOKEN</code>",
    "ailuna": "<code>/setkey ailuna API_KEY</code>",
    "describepicture": "<code>/setkey describepicture APP_ID</code>",
}


def setkey_usage(provider: str | None = None) -> str:
    """How /setkey is written: for one provider, or for each of them."""
    examples = [_USAGE[provider]] if provider in _USAGE else list(_USAGE.values())
    return "\n".join([_("Send your key like this (I delete the message right away):"), *examples])


async def _keys_view(keychain: KeyChain, *, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The /keys text and keyboard: the user's keys, masked, and a button per provider."""
    masked = await keychain.masked(user_id)
    lines = [_("<b>Your keys</b>")]
    for provider, name in DISPLAY_NAMES.items():
        if provider in masked:
            lines.append(f"✅ {name}: <code>{escape(masked[provider])}</code>")
        else:
            lines.append(_("▫️ {provider}: not set").format(provider=name))
    lines += ["", setkey_usage()]
    return "\n".join(lines), keys_keyboard(DISPLAY_NAMES, masked)


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
    credential_type = providers.credential_types.get(provider)
    if credential_type is None:
        # The unknown word is not echoed: it may be the key itself, typed without a provider.
        return (
            _("Unknown provider. Choose one of: {valid}.").format(valid=", ".join(DISPLAY_NAMES))
            + "\n\n"
            + setkey_usage()
        )
    name = display_name(provider)
    try:
        credential = credential_type.from_parts(values)
    except CredentialFormatError:
        return (
            _("That does not look like a valid {provider} key.").format(provider=name)
            + "\n\n"
            + setkey_usage(provider)
        )
    verdict = await _check(credential, providers)
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


async def _check(credential: Credential, providers: Providers) -> bool | None:
    """True if the provider accepted the key, False if it rejected it, None if unknown."""
    try:
        if isinstance(credential, CodexAeternumCredential):
            await providers.codexaeternum.exchange_token(credential)
        elif isinstance(credential, AiLunaCredential):
            await providers.ailuna.list_images(credential, per_page=10)
        else:
            return None  # no cheap call exists: checked at first use
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
    if provider not in DISPLAY_NAMES:
        await message.answer(
            _("Which key? Send /delkey and one of: {valid}.").format(valid=", ".join(DISPLAY_NAMES))
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
    if callback_data.provider not in DISPLAY_NAMES or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
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
    if callback_data.provider not in DISPLAY_NAMES or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    await query.message.answer(setkey_usage(callback_data.provider))
    await query.answer()


def create_router() -> Router:
    """The keys router with its handlers, scope filters on the router."""
    router = Router(name="keys")
    router.message.filter(InPrivateChat())
    router.callback_query.filter(InPrivateChat())
    router.message.register(keys_command, Command("keys"))
    router.message.register(setkey, Command("setkey"))
    router.message.register(delkey, Command("delkey"))
    router.callback_query.register(delete_button, KeyAction.filter(F.action == KeyButton.DELETE))
    router.callback_query.register(add_button, KeyAction.filter(F.action == KeyButton.ADD))
    return router
