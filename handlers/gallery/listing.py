"""The /gallery list: the user's AiLuna images a page at a time, shown anew or in place."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from bot.error_texts import error_text
from bot.keychain import KeyChain
from bot.telegram import delete_quietly, edit_text
from handlers.gallery.access import Gallery, no_key, own_key
from handlers.gallery.callbacks import GalleryAction, GallerySort, GalleryView
from handlers.gallery.keyboards import gallery_keyboard, gallery_link_keyboard
from handlers.gallery.searches import remember_search, search_of
from handlers.gallery.texts import list_text
from services.ailuna import ImagePage
from services.exceptions import ServiceError
from services.registry import Providers

logger = logging.getLogger(__name__)

PER_PAGE = 10
GALLERY_DEEP_LINK = "gallery"
"""`/start gallery` opens the gallery: where /gallery in a group sends the user."""

_ORDER = {
    GallerySort.NEWEST: ("id", "desc"),
    GallerySort.OLDEST: ("id", "asc"),
    GallerySort.NAME: ("name", "asc"),
}


async def _fetch(
    gallery: Gallery, view: GalleryView, search: str | None
) -> tuple[ImagePage, GalleryView]:
    """A page of the list; past the end (after deletes) the last page there is."""
    page = await _list(gallery, view, search)
    if not page.items and view.page > 1:
        last = max(1, min(page.last_page or view.page - 1, view.page - 1))
        view = view.moved(page=last)
        page = await _list(gallery, view, search)
    return page, view


async def _list(gallery: Gallery, view: GalleryView, search: str | None) -> ImagePage:
    sort_by, sort = _ORDER[view.sort]
    return await gallery.providers.ailuna.list_images(
        gallery.credential,
        search=search,
        search_by="name" if search is not None else None,
        favorite=True if view.favorites else None,
        sort_by=sort_by,
        sort=sort,
        per_page=PER_PAGE,
        page=view.page,
    )


async def _list_view(
    gallery: Gallery, view: GalleryView, search: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The list's text and buttons for this view. Raises ServiceError."""
    view = view.moved(searched=search is not None)
    page, view = await _fetch(gallery, view, search)
    if page.last_page is not None:
        has_next = view.page < page.last_page
    else:  # Without a page count, a full page may have more after it.
        has_next = len(page.items) >= PER_PAGE
    return list_text(page, view, search), gallery_keyboard(page.items, view=view, has_next=has_next)


async def put_list(gallery: Gallery, *, list_id: int, view: GalleryView) -> None:
    """Refresh a list message in place, or send the list anew when that message is gone."""
    search = await search_of(gallery.state, view, list_id)
    text, markup = await _list_view(gallery, view, search)
    if list_id:
        try:
            if await edit_text(
                gallery.bot,
                chat_id=gallery.chat_id,
                message_id=list_id,
                text=text,
                reply_markup=markup,
            ):
                return
        except TelegramBadRequest as e:  # not a list of ours (a tampered button): a new one
            logger.info("gallery list %d cannot be edited: %s", list_id, e.message)
    sent = await gallery.bot.send_message(chat_id=gallery.chat_id, text=text, reply_markup=markup)
    if search is not None:
        await remember_search(gallery.state, sent.message_id, search)


async def back_to_list(gallery: Gallery, *, card_id: int, card: GalleryAction) -> None:
    """The card goes away and the list it came from shows again, refreshed."""
    await delete_quietly(gallery.bot, chat_id=gallery.chat_id, message_id=card_id)
    try:
        await put_list(gallery, list_id=card.list_id, view=card.view())
    except ServiceError as e:
        await gallery.bot.send_message(chat_id=gallery.chat_id, text=error_text(e))


async def _open_gallery(
    message: Message,
    *,
    search: str | None,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    state: FSMContext,
) -> None:
    """Send the first page of the user's images as a new list message."""
    if message.from_user is None:
        return
    credential = await own_key(keychain, message.from_user.id)
    if credential is None:
        text, markup = await no_key(bot, keychain, message.from_user.id)
        await message.reply(text, reply_markup=markup)
        return
    gallery = Gallery(bot, providers, credential, state, chat_id=message.chat.id)
    try:
        text, markup = await _list_view(gallery, GalleryView(), search)
    except ServiceError as e:
        await message.reply(error_text(e))
        return
    sent = await message.answer(text, reply_markup=markup)
    if search is not None:
        await remember_search(state, sent.message_id, search)


async def gallery_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    state: FSMContext,
) -> None:
    """/gallery [search]: the first page of the user's images, by name when searching."""
    search = " ".join((command.args or "").split()) or None
    await _open_gallery(
        message, search=search, bot=bot, keychain=keychain, providers=providers, state=state
    )


async def gallery_start(
    message: Message, bot: Bot, keychain: KeyChain, providers: Providers, state: FSMContext
) -> None:
    """The `gallery` deep link (from /gallery in a group): the gallery, unsearched."""
    await _open_gallery(
        message, search=None, bot=bot, keychain=keychain, providers=providers, state=state
    )


async def gallery_in_group(message: Message, bot: Bot) -> None:
    """/gallery in a group: the images are the user's own, so they open in private chat."""
    link = await create_start_link(bot, GALLERY_DEEP_LINK)
    await message.reply(
        _("Your gallery opens in private chat, where only you see your images."),
        reply_markup=gallery_link_keyboard(link),
    )


async def view_button(
    query: CallbackQuery, callback_data: GalleryView, pressed: Message, gallery: Gallery
) -> None:
    """◀️ ▶️, favorites only, sort: the list shows that view, in place."""
    try:
        search = await search_of(gallery.state, callback_data, pressed.message_id)
        text, markup = await _list_view(gallery, callback_data, search)
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    await edit_text(
        gallery.bot,
        chat_id=pressed.chat.id,
        message_id=pressed.message_id,
        text=text,
        reply_markup=markup,
    )
    await query.answer()
