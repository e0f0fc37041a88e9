"""Groups: key commands never work there; a key sent in a group is deleted, never stored."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from bot.choices import KEYS_DEEP_LINK
from bot.keyboards import deep_link_keyboard
from bot.telegram import delete_quietly

logger = logging.getLogger(__name__)


async def keys_in_group(message: Message, command: CommandObject, bot: Bot) -> None:
    """Delete a /setkey at once (it may carry a secret) and send the user to the private chat."""
    is_setkey = command.command.lower() == "setkey"  # also when sent as a photo's caption
    deleted = (
        await delete_quietly(bot, chat_id=message.chat.id, message_id=message.message_id)
        if is_setkey
        else True
    )
    link = await create_start_link(bot, KEYS_DEEP_LINK)
    lines = [_("Keys are set up in private chat only, so nobody else sees them.")]
    if is_setkey:
        lines.append(_("I stored nothing."))
        if not deleted:
            lines.append(
                _("⚠️ I could not delete that message: delete it and replace the key if you can.")
            )
    await message.answer("\n".join(lines), reply_markup=deep_link_keyboard(link))


def create_router() -> Router:
    """The groups' key handler."""
    router = Router(name="keys_group")
    router.message.register(keys_in_group, Command("setkey", "keys", "delkey"))
    return router
