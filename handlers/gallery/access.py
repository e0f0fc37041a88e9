"""Who may press a gallery button: the presser's own chat and own AiLuna key, checked once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.choices import no_key_reply
from bot.keychain import KeyChain
from handlers.common.stale import no_longer_valid
from services.ailuna import AiLunaCredential
from services.registry import Providers

PROVIDER = "ailuna"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Gallery:
    """One user's gallery in their private chat: their own key, the clients, their FSM data."""

    bot: Bot
    providers: Providers
    credential: AiLunaCredential
    state: FSMContext
    chat_id: int


async def own_key(keychain: KeyChain, user_id: int) -> AiLunaCredential | None:
    """The user's own AiLuna key: the operator's shows one account's images to everybody."""
    resolved = await keychain.resolve(user_id, PROVIDER)
    if resolved is None or resolved.source != "own":
        return None
    credential = resolved.credential
    return credential if isinstance(credential, AiLunaCredential) else None


async def no_key(bot: Bot, keychain: KeyChain, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """How to add a key, saying why the bot's shared key does not open a gallery."""
    text, markup = await no_key_reply(bot, PROVIDER)
    if await keychain.resolve(user_id, PROVIDER) is not None:
        text = _(
            "The gallery shows the images of your own AiLuna account, so it needs your own "
            "AiLuna key. Add it in private chat:"
        )
    return text, markup


class PressedInOwnChat(BaseMiddleware):
    """Passes the pressed message on as `pressed`, if it is in the presser's own private chat.

    Otherwise the button is no longer valid and no handler runs.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, CallbackQuery)
        message = event.message
        if not isinstance(message, Message) or message.chat.id != event.from_user.id:
            await no_longer_valid(event)
            return None
        data["pressed"] = message
        return await handler(event, data)


class PresserGallery(BaseMiddleware):
    """Passes the presser's Gallery on as `gallery`; without their own key, says how to add one.

    Runs after PressedInOwnChat, whose `pressed` message the answer goes under.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, CallbackQuery)
        keychain: KeyChain = data["keychain"]
        credential = await own_key(keychain, event.from_user.id)
        pressed: Message = data["pressed"]
        if credential is None:
            text, markup = await no_key(data["bot"], keychain, event.from_user.id)
            await pressed.answer(text, reply_markup=markup)
            await event.answer()
            return None
        data["gallery"] = Gallery(
            bot=data["bot"],
            providers=data["providers"],
            credential=credential,
            state=data["state"],
            chat_id=pressed.chat.id,
        )
        return await handler(event, data)
