"""Private chats: /gallery, the user's AiLuna images paged with buttons, and each image's card."""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from bot.callbacks import GalleryAction, GalleryButton, GallerySort, GalleryView
from bot.choices import no_key_reply
from bot.error_texts import error_text
from bot.filters import DataStartsWith, InGroupChat, InPrivateChat, PlainText
from bot.formatting import escape, shorten
from bot.imaging import ImageWorkers
from bot.keyboards import (
    gallery_card_keyboard,
    gallery_delete_keyboard,
    gallery_keyboard,
    gallery_link_keyboard,
    gallery_rename_keyboard,
)
from bot.keychain import KeyChain
from bot.states import GalleryStates
from bot.telegram import delete_quietly, edit_caption, edit_markup, edit_text
from services.ailuna import NAME_MAX, AiLunaCredential, AiLunaImage, ImagePage
from services.exceptions import NotFoundError, ServiceError
from services.registry import Providers

logger = logging.getLogger(__name__)

PROVIDER = "ailuna"
PER_PAGE = 10
GALLERY_DEEP_LINK = "gallery"
"""`/start gallery` opens the gallery: where /gallery in a group sends the user."""
RENAME_MAX = NAME_MAX
"""Longest new name: AiLuna documents no limit, and the bot names its own images within this."""
SEARCHES_KEPT = 20
"""Searched lists per user whose search text is remembered (older ones show unsearched)."""

# A search's text may not fit a button's 64 bytes, so it stays in FSM data keyed by the list
# message it belongs to; buttons only say whether their list has one. The rest of a view (page,
# favorites only, sort) is in the buttons themselves, so lists keep working after a restart,
# which empties the FSM memory: a searched list's buttons then show the unsearched list.
_SEARCHES = "gallery_searches"
_RENAME = "gallery_rename"
_ORDER = {
    GallerySort.NEWEST: ("id", "desc"),
    GallerySort.OLDEST: ("id", "asc"),
    GallerySort.NAME: ("name", "asc"),
}
_CAPTION_NAME_MAX = 200
_CAPTION_DESCRIPTION_MAX = 600


@dataclass(frozen=True, slots=True)
class _Rename:
    """A rename waiting for the user's next message: which card, and the prompt asking for it."""

    card: GalleryAction
    card_id: int
    prompt_id: int

    def to_data(self) -> dict[str, Any]:
        """The FSM data form (JSON-safe)."""
        return {"card": self.card.pack(), "card_id": self.card_id, "prompt_id": self.prompt_id}

    @classmethod
    def from_data(cls, value: Any) -> _Rename | None:
        """The pending rename in FSM data, or None."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                GalleryAction.unpack(value["card"]), int(value["card_id"]), int(value["prompt_id"])
            )
        except (KeyError, TypeError, ValueError):
            return None


# --- credentials and FSM data ------------------------------------------------------------------


async def _credential(keychain: KeyChain, user_id: int) -> AiLunaCredential | None:
    """The user's own AiLuna key: the operator's shows one account's images to everybody."""
    resolved = await keychain.resolve(user_id, PROVIDER)
    if resolved is None or resolved.source != "own":
        return None
    credential = resolved.credential
    return credential if isinstance(credential, AiLunaCredential) else None


async def _no_key(bot: Bot, keychain: KeyChain, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """How to add a key, saying why the bot's shared key does not open a gallery."""
    text, markup = await no_key_reply(bot, PROVIDER)
    if await keychain.resolve(user_id, PROVIDER) is not None:
        text = _(
            "The gallery shows the images of your own AiLuna account, so it needs your own "
            "AiLuna key. Add it in private chat:"
        )
    return text, markup


async def _remember_search(state: FSMContext, list_id: int, search: str) -> None:
    searches = dict((await state.get_data()).get(_SEARCHES) or {})
    searches[str(list_id)] = search
    # Insertion order is age: keep the newest few.
    await state.update_data({_SEARCHES: dict(list(searches.items())[-SEARCHES_KEPT:])})


async def _search_of(state: FSMContext, view: GalleryView, list_id: int) -> str | None:
    if not view.searched:
        return None
    search = ((await state.get_data()).get(_SEARCHES) or {}).get(str(list_id))
    return search if isinstance(search, str) else None


async def _end_rename(
    bot: Bot, state: FSMContext, *, chat_id: int, outcome: str | None = None
) -> _Rename | None:
    """Leave the rename step; its prompt says `outcome` (default: cancelled). The rename that
    was pending, if any."""
    data = await state.get_data()
    pending = _Rename.from_data(data.pop(_RENAME, None))
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


# --- Telegram helpers --------------------------------------------------------------------------


def _own_message(query: CallbackQuery) -> Message | None:
    """The message of a button pressed in the presser's own private chat, else None."""
    message = query.message
    if isinstance(message, Message) and message.chat.id == query.from_user.id:
        return message
    return None


async def _stale(query: CallbackQuery) -> None:
    """The button no longer works: its image or list is gone, it is someone else's, or its data
    does not parse (tampered, or from an older version)."""
    await query.answer(_("This button is no longer valid."), show_alert=True)


async def _presser(
    query: CallbackQuery, bot: Bot, keychain: KeyChain
) -> tuple[Message, AiLunaCredential] | None:
    """The pressed message and the presser's own key; None once the presser is told why not."""
    message = _own_message(query)
    if message is None:
        await _stale(query)
        return None
    credential = await _credential(keychain, query.from_user.id)
    if credential is None:
        text, markup = await _no_key(bot, keychain, query.from_user.id)
        await message.answer(text, reply_markup=markup)
        await query.answer()
        return None
    return message, credential


async def _edit_quietly(bot: Bot, *, chat_id: int, message_id: int, text: str) -> None:
    """Edit a text message of ours, if it can still be edited; nothing else matters here."""
    try:
        await edit_text(bot, chat_id=chat_id, message_id=message_id, text=text)
    except TelegramBadRequest as e:
        logger.debug("could not edit message %d: %s", message_id, e.message)


async def _edit_markup(bot: Bot, message: Message, markup: InlineKeyboardMarkup) -> None:
    await edit_markup(
        bot, chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
    )


async def _edit_card(
    bot: Bot, *, chat_id: int, card_id: int, image: AiLunaImage, card: GalleryAction
) -> None:
    """Show the image as it now is on its card, in place."""
    await edit_caption(
        bot,
        chat_id=chat_id,
        message_id=card_id,
        caption=_caption(image, starred=card.starred),
        reply_markup=gallery_card_keyboard(card),
    )


# --- the list ----------------------------------------------------------------------------------


async def _fetch(
    providers: Providers, credential: AiLunaCredential, view: GalleryView, search: str | None
) -> tuple[ImagePage, GalleryView]:
    """A page of the list; past the end (after deletes) the last page there is."""
    page = await _list(providers, credential, view, search)
    if not page.items and view.page > 1:
        last = max(1, min(page.last_page or view.page - 1, view.page - 1))
        view = view.moved(page=last)
        page = await _list(providers, credential, view, search)
    return page, view


async def _list(
    providers: Providers, credential: AiLunaCredential, view: GalleryView, search: str | None
) -> ImagePage:
    sort_by, sort = _ORDER[view.sort]
    return await providers.ailuna.list_images(
        credential,
        search=search,
        search_by="name" if search is not None else None,
        favorite=True if view.favorites else None,
        sort_by=sort_by,
        sort=sort,
        per_page=PER_PAGE,
        page=view.page,
    )


async def _list_view(
    providers: Providers, credential: AiLunaCredential, view: GalleryView, search: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The list's text and buttons for this view. Raises ServiceError."""
    view = view.moved(searched=search is not None)
    page, view = await _fetch(providers, credential, view, search)
    if page.last_page is not None:
        has_next = view.page < page.last_page
    else:  # Without a page count, a full page may have more after it.
        has_next = len(page.items) >= PER_PAGE
    return _list_text(page, view, search), gallery_keyboard(
        page.items, view=view, has_next=has_next
    )


def _list_text(page: ImagePage, view: GalleryView, search: str | None) -> str:
    lines = [_("🖼 <b>Your AiLuna images</b>")]
    if search is not None:
        lines.append(_("🔎 Name contains “{search}”").format(search=escape(shorten(search, 60))))
    if view.favorites:
        lines.append(_("⭐ Favorites only"))
    if not page.items:
        if search is not None:
            lines.append(_("No image matches."))
        elif view.favorites:
            lines.append(_("No favorites yet: open an image and press ⭐."))
        else:
            lines.append(
                _("No images yet. Make one with <code>/imagine --provider ailuna a red fox</code>")
            )
    elif page.last_page is not None:
        lines.append(_("Page {page} of {pages}").format(page=view.page, pages=page.last_page))
    else:
        lines.append(_("Page {page}").format(page=view.page))
    return "\n".join(lines)


async def _put_list(
    bot: Bot,
    providers: Providers,
    credential: AiLunaCredential,
    state: FSMContext,
    *,
    chat_id: int,
    list_id: int,
    view: GalleryView,
) -> None:
    """Refresh a list message in place, or send the list anew when that message is gone."""
    search = await _search_of(state, view, list_id)
    text, markup = await _list_view(providers, credential, view, search)
    if list_id:
        try:
            if await edit_text(
                bot, chat_id=chat_id, message_id=list_id, text=text, reply_markup=markup
            ):
                return
        except TelegramBadRequest as e:  # not a list of ours (a tampered button): a new one
            logger.info("gallery list %d cannot be edited: %s", list_id, e.message)
    sent = await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
    if search is not None:
        await _remember_search(state, sent.message_id, search)


async def _back_to_list(
    bot: Bot,
    providers: Providers,
    credential: AiLunaCredential,
    state: FSMContext,
    *,
    chat_id: int,
    card_id: int,
    card: GalleryAction,
) -> None:
    """The card goes away and the list it came from shows again, refreshed."""
    await delete_quietly(bot, chat_id=chat_id, message_id=card_id)
    try:
        await _put_list(
            bot,
            providers,
            credential,
            state,
            chat_id=chat_id,
            list_id=card.list_id,
            view=card.view(),
        )
    except ServiceError as e:
        await bot.send_message(chat_id=chat_id, text=error_text(e))


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
    credential = await _credential(keychain, message.from_user.id)
    if credential is None:
        text, markup = await _no_key(bot, keychain, message.from_user.id)
        await message.reply(text, reply_markup=markup)
        return
    try:
        text, markup = await _list_view(providers, credential, GalleryView(), search)
    except ServiceError as e:
        await message.reply(error_text(e))
        return
    sent = await message.answer(text, reply_markup=markup)
    if search is not None:
        await _remember_search(state, sent.message_id, search)


# --- the card ----------------------------------------------------------------------------------


def _caption(image: AiLunaImage, *, starred: bool) -> str:
    name = escape(shorten(" ".join(image.name.split()) or f"#{image.id}", _CAPTION_NAME_MAX))
    lines = [f"⭐ <b>{name}</b>" if starred else f"<b>{name}</b>"]
    details = [v for v in (image.resolution, image.style, image.medium, image.filter) if v]
    if details:
        lines.append(escape(" · ".join(details)))
    if image.description:
        lines.append(f"<i>{escape(shorten(image.description, _CAPTION_DESCRIPTION_MAX))}</i>")
    return "\n".join(lines)


async def _image_file(
    providers: Providers,
    images: ImageWorkers,
    credential: AiLunaCredential,
    image: AiLunaImage,
    url: str,
) -> BufferedInputFile:
    """The image downloaded and made fit for sendPhoto. Raises ServiceError."""
    data = await providers.ailuna.download_image(credential, url=url)
    photo = await images.photo(data)
    extension = photo.mime_type.partition("/")[2] or "jpeg"
    return BufferedInputFile(photo.data, filename=f"ailuna-{image.id}.{extension}")


# --- handlers: the list ------------------------------------------------------------------------


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
    query: CallbackQuery,
    callback_data: GalleryView,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    state: FSMContext,
) -> None:
    """◀️ ▶️, favorites only, sort: the list shows that view, in place."""
    pressed = await _presser(query, bot, keychain)
    if pressed is None:
        return
    message, credential = pressed
    try:
        search = await _search_of(state, callback_data, message.message_id)
        text, markup = await _list_view(providers, credential, callback_data, search)
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    await edit_text(
        bot, chat_id=message.chat.id, message_id=message.message_id, text=text, reply_markup=markup
    )
    await query.answer()


# --- handlers: the card ------------------------------------------------------------------------


async def open_button(
    query: CallbackQuery,
    callback_data: GalleryAction,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    images: ImageWorkers,
    state: FSMContext,
) -> None:
    """An image of the list: its card, a photo with the image's buttons."""
    pressed = await _presser(query, bot, keychain)
    if pressed is None:
        return
    message, credential = pressed
    try:
        image = await providers.ailuna.show(credential, image_id=callback_data.image_id)
        if image.url is None:
            await query.answer(_("This image is still being made. Try again in a moment."))
            return
        photo = await _image_file(providers, images, credential, image, image.url)
    except NotFoundError as e:
        # The list shows an image AiLuna no longer has: show the list as it now is.
        with suppress(ServiceError):
            await _put_list(
                bot,
                providers,
                credential,
                state,
                chat_id=message.chat.id,
                list_id=message.message_id,
                view=callback_data.view(),
            )
        await query.answer(error_text(e), show_alert=True)
        return
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    starred = bool(image.favorite)
    card = callback_data.model_copy(update={"starred": starred, "list_id": message.message_id})
    await bot.send_photo(
        chat_id=message.chat.id,
        photo=photo,
        caption=_caption(image, starred=starred),
        reply_markup=gallery_card_keyboard(card),
    )
    await query.answer()


async def star_button(
    query: CallbackQuery,
    callback_data: GalleryAction,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    state: FSMContext,
) -> None:
    """⭐ on a card: add the image to the user's favorites, or take it out; the card follows."""
    pressed = await _presser(query, bot, keychain)
    if pressed is None:
        return
    message, credential = pressed
    wanted = not callback_data.starred
    try:
        image = await providers.ailuna.update(
            credential, image_id=callback_data.image_id, favorite=wanted
        )
    except NotFoundError as e:
        await _back_to_list(
            bot,
            providers,
            credential,
            state,
            chat_id=message.chat.id,
            card_id=message.message_id,
            card=callback_data,
        )
        await query.answer(error_text(e), show_alert=True)
        return
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    starred = wanted if image.favorite is None else image.favorite
    await _edit_card(
        bot,
        chat_id=message.chat.id,
        card_id=message.message_id,
        image=image,
        card=callback_data.model_copy(update={"starred": starred}),
    )
    await query.answer(_("Added to favorites.") if starred else _("Removed from favorites."))


async def delete_button(query: CallbackQuery, callback_data: GalleryAction, bot: Bot) -> None:
    """🗑 on a card: its buttons become ✅ yes / ✖️ no."""
    message = _own_message(query)
    if message is None:
        await _stale(query)
        return
    await _edit_markup(bot, message, gallery_delete_keyboard(callback_data))
    await query.answer(_("Delete this image for good? This cannot be undone."), show_alert=True)


async def keep_button(query: CallbackQuery, callback_data: GalleryAction, bot: Bot) -> None:
    """✖️ no: the card's own buttons again, nothing deleted."""
    message = _own_message(query)
    if message is None:
        await _stale(query)
        return
    await _edit_markup(bot, message, gallery_card_keyboard(callback_data))
    await query.answer()


async def confirm_delete_button(
    query: CallbackQuery,
    callback_data: GalleryAction,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    state: FSMContext,
) -> None:
    """✅ yes: delete the image at AiLuna; the card goes and the list shows without it."""
    pressed = await _presser(query, bot, keychain)
    if pressed is None:
        return
    message, credential = pressed
    try:
        await providers.ailuna.delete(credential, image_id=callback_data.image_id)
    except NotFoundError as e:  # already gone: the list is what matters now
        said = error_text(e)
    except ServiceError as e:
        await _edit_markup(bot, message, gallery_card_keyboard(callback_data))
        await query.answer(error_text(e), show_alert=True)
        return
    else:
        logger.info("user %d deleted AiLuna image %s", query.from_user.id, callback_data.image_id)
        said = _("🗑 Deleted.")
    await _back_to_list(
        bot,
        providers,
        credential,
        state,
        chat_id=message.chat.id,
        card_id=message.message_id,
        card=callback_data,
    )
    await query.answer(said)


async def back_button(
    query: CallbackQuery,
    callback_data: GalleryAction,
    bot: Bot,
    keychain: KeyChain,
    providers: Providers,
    state: FSMContext,
) -> None:
    """↩️ on a card: the card goes, and its list shows again, refreshed."""
    pressed = await _presser(query, bot, keychain)
    if pressed is None:
        return
    message, credential = pressed
    await _back_to_list(
        bot,
        providers,
        credential,
        state,
        chat_id=message.chat.id,
        card_id=message.message_id,
        card=callback_data,
    )
    await query.answer()


# --- handlers: rename --------------------------------------------------------------------------


async def rename_button(
    query: CallbackQuery, callback_data: GalleryAction, bot: Bot, state: FSMContext
) -> None:
    """✏️ on a card: ask for the new name, which the user's next message in this chat is."""
    message = _own_message(query)
    if message is None:
        await _stale(query)
        return
    await _end_rename(bot, state, chat_id=message.chat.id)
    prompt = await bot.send_message(
        chat_id=message.chat.id,
        text=_(
            "✏️ Send me the new name for this image, at most {limit} characters, or /cancel."
        ).format(limit=RENAME_MAX),
        reply_parameters=ReplyParameters(
            message_id=message.message_id, allow_sending_without_reply=True
        ),
        reply_markup=gallery_rename_keyboard(callback_data),
    )
    pending = _Rename(callback_data, card_id=message.message_id, prompt_id=prompt.message_id)
    await state.set_state(GalleryStates.rename)
    await state.update_data({_RENAME: pending.to_data()})
    await query.answer()


async def stop_rename_button(query: CallbackQuery, bot: Bot, state: FSMContext) -> None:
    """✖️ Cancel under the prompt: the name stays as it is."""
    message = _own_message(query)
    if message is None:
        await _stale(query)
        return
    pending = _Rename.from_data((await state.get_data()).get(_RENAME))
    if pending is not None and pending.prompt_id == message.message_id:
        await _end_rename(bot, state, chat_id=message.chat.id)
    else:  # an older prompt, whose rename already ended
        await _edit_quietly(
            bot,
            chat_id=message.chat.id,
            message_id=message.message_id,
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
    pending = _Rename.from_data((await state.get_data()).get(_RENAME))
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
    credential = await _credential(keychain, message.from_user.id)
    if credential is None:
        await _end_rename(bot, state, chat_id=message.chat.id)
        text, markup = await _no_key(bot, keychain, message.from_user.id)
        await message.reply(text, reply_markup=markup)
        return
    try:
        image = await providers.ailuna.update(credential, image_id=pending.card.image_id, name=name)
    except NotFoundError as e:
        await _end_rename(bot, state, chat_id=message.chat.id, outcome=error_text(e))
        await _back_to_list(
            bot,
            providers,
            credential,
            state,
            chat_id=message.chat.id,
            card_id=pending.card_id,
            card=pending.card,
        )
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
    await _edit_card(
        bot,
        chat_id=message.chat.id,
        card_id=pending.card_id,
        image=image,
        card=pending.card.model_copy(update={"starred": starred}),
    )


def create_router() -> Router:
    """The gallery router: private chats get the gallery, groups a link to it."""
    router = Router(name="gallery")
    # While renaming, these come first: /cancel, a plain text (the name), anything else.
    renaming = Router(name="gallery_rename")
    renaming.message.filter(InPrivateChat(), StateFilter(GalleryStates.rename))
    renaming.message.register(cancel_rename, Command("cancel"))
    renaming.message.register(rename_text, PlainText())
    renaming.message.register(leave_rename)
    private = Router(name="gallery_private")
    private.message.filter(InPrivateChat())
    private.callback_query.filter(InPrivateChat())
    private.message.register(gallery_command, Command("gallery"))
    private.message.register(
        gallery_start, CommandStart(deep_link=True, magic=F.args == GALLERY_DEEP_LINK)
    )
    private.callback_query.register(view_button, GalleryView.filter())
    for handler, action in (
        (open_button, GalleryButton.OPEN),
        (star_button, GalleryButton.STAR),
        (rename_button, GalleryButton.RENAME),
        (stop_rename_button, GalleryButton.STOP_RENAME),
        (delete_button, GalleryButton.DELETE),
        (keep_button, GalleryButton.KEEP),
        (confirm_delete_button, GalleryButton.CONFIRM_DELETE),
        (back_button, GalleryButton.BACK),
    ):
        private.callback_query.register(handler, GalleryAction.filter(F.action == action))
    prefixes = (f"{GalleryView.__prefix__}:", f"{GalleryAction.__prefix__}:")
    private.callback_query.register(_stale, DataStartsWith(prefixes))
    groups = Router(name="gallery_groups")
    groups.message.filter(InGroupChat())
    groups.message.register(gallery_in_group, Command("gallery"))
    router.include_routers(renaming, private, groups)
    return router
