"""✏️ on a card: the user's next message in the chat is the image's new name."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyParameters
from aiogram.utils.i18n import gettext as _

from bot.error_texts import error_text
from bot.formatting import escape
from bot.keychain import KeyChain
from bot.telegram import edit_text
from handlers.gallery.access import Gallery, no_key, own_key
from handlers.gallery.callbacks import GalleryAction
from handlers.gallery.card import show_card
from handlers.gallery.keyboards import gallery_rename_keyboard
from handlers.gallery.listing import back_to_list
from handlers.gallery.states import RENAME_DATA, GalleryStates, PendingRename
from services.ailuna import NAME_MAX
from services.exceptions import NotFoundError, ServiceError
from services.registry import Providers

logger = logging.getLogger(__name__)

RENAME_MAX = NAME_MAX
"""Longest new name: AiLuna documents no limit, and the bot names its own images within this."""


async def _end_rename(
    bot: Bot, state: FSMContext, *, chat_id: int, outcome: str | None = None
) -> PendingRename | None:
    """Leave the rename step; its prompt says `outcome` (default: cancelled). The rename that
    was pending, if any."""
    data = await state.get_data()
    pending = PendingRename.from_data(data.pop(RENAME_DATA, None))
    await state.set_data(data)
    await state.set_state(None)
    if pending is not None:
        await _edit_quietly(
            bot,
            chat_id=chat_id,
            message_id=pending.prompt_id,
            text=outcome or _("Rename cancelled."),
        )
    return pending


async def _edit_quietly(bot: Bot, *, chat_id: int, message_id: int, text: str) -> None:
    """Edit a text message of ours, if it can still be edited; nothing else matters here."""
    try:
        await edit_text(bot, chat_id=chat_id, message_id=message_id, text=text)
    except TelegramBadRequest as e:
        logger.debug("could not edit message %d: %s", message_id, e.message)


async def rename_button(
    query: CallbackQuery,
    callback_data: GalleryAction,
    pressed: Message,
    bot: Bot,
    state: FSMContext,
) -> None:
    """✏️ on a card: ask for the new name, which the user's next message in this chat is."""
    await _end_rename(bot, state, chat_id=pressed.chat.id)
    prompt = await bot.send_message(
        chat_id=pressed.chat.id,
        text=_(
            "✏️ Send me the new name for this image, at most {limit} characters, or /cancel."
        ).format(limit=RENAME_MAX),
        reply_parameters=ReplyParameters(
            message_id=pressed.message_id, allow_sending_without_reply=True
        ),
        reply_markup=gallery_rename_keyboard(callback_data),
    )
    pending = PendingRename(callback_data, card_id=pressed.message_id, prompt_id=prompt.message_id)
    await state.set_state(GalleryStates.rename)
    await state.update_data({RENAME_DATA: pending.to_data()})
    await query.answer()


async def stop_rename_button(
    query: CallbackQuery, pressed: Message, bot: Bot, state: FSMContext
) -> None:
    """✖️ Cancel under the prompt: the name stays as it is."""
    pending = PendingRename.from_data((await state.get_data()).get(RENAME_DATA))
    if pending is not None and pending.prompt_id == pressed.message_id:
        await _end_rename(bot, state, chat_id=pressed.chat.id)
    else:  # an older prompt, whose rename already ended
        await _edit_quietly(
            bot,
            chat_id=pressed.chat.id,
            message_id=pressed.message_id,
            text=_("Rename cancelled."),
        )
    await query.answer()


async def cancel_rename(message: Message, bot: Bot, state: FSMContext) -> None:
    """/cancel while renaming: the name stays as it is."""
    await _end_rename(bot, state, chat_id=message.chat.id)


async def leave_rename(message: Message, bot: Bot, state: FSMContext) -> None:
    """Another command or a photo while renaming: the rename ends and that is handled as usual."""
    await _end_rename(bot, state, chat_id=message.chat.id)
    raise SkipHandler


async def rename_text(
    message: Message, bot: Bot, keychain: KeyChain, providers: Providers, state: FSMContext
) -> None:
    """The message after ✏️: the new name; the card shows it, in place."""
    pending = PendingRename.from_data((await state.get_data()).get(RENAME_DATA))
    if pending is None or message.from_user is None or message.text is None:
        await state.set_state(None)
        raise SkipHandler  # nothing to rename after all: a plain message like any other
    name = " ".join(message.text.split())
    if not 1 <= len(name) <= RENAME_MAX:
        await message.reply(
            _("A name is 1 to {limit} characters long. Send another, or /cancel.").format(
                limit=RENAME_MAX
            )
        )
        return
    credential = await own_key(keychain, message.from_user.id)
    if credential is None:
        await _end_rename(bot, state, chat_id=message.chat.id)
        text, markup = await no_key(bot, keychain, message.from_user.id)
        await message.reply(text, reply_markup=markup)
        return
    gallery = Gallery(bot, providers, credential, state, chat_id=message.chat.id)
    try:
        image = await providers.ailuna.update(credential, image_id=pending.card.image_id, name=name)
    except NotFoundError as e:
        await _end_rename(bot, state, chat_id=message.chat.id, outcome=error_text(e))
        await back_to_list(gallery, card_id=pending.card_id, card=pending.card)
        return
    except ServiceError as e:
        await message.reply(
            error_text(e) + "\n" + _("Send the name again, or /cancel to keep the old one.")
        )
        return
    logger.info("user %d renamed AiLuna image %s", message.from_user.id, pending.card.image_id)
    await _end_rename(
        bot,
        state,
        chat_id=message.chat.id,
        outcome=_("✏️ Renamed to “{name}”.").format(name=escape(image.name or name)),
    )
    starred = pending.card.starred if image.favorite is None else image.favorite
    await show_card(
        gallery,
        card_id=pending.card_id,
        image=image,
        card=pending.card.model_copy(update={"starred": starred}),
    )
