"""An image's card: opened from the list as a photo with ⭐, ✏️, 🗑 and ↩️ under it."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.error_texts import error_text
from bot.imaging import ImageWorkers
from bot.telegram import edit_caption, edit_markup
from handlers.common.favorite import toggle_favorite
from handlers.gallery.access import Gallery
from handlers.gallery.callbacks import GalleryAction
from handlers.gallery.keyboards import gallery_card_keyboard, gallery_delete_keyboard
from handlers.gallery.listing import back_to_list, put_list
from handlers.gallery.texts import caption
from services.ailuna import AiLunaImage
from services.exceptions import NotFoundError, ServiceError

logger = logging.getLogger(__name__)


async def show_card(
    gallery: Gallery, *, card_id: int, image: AiLunaImage, card: GalleryAction
) -> None:
    """Show the image as it now is on its card, in place."""
    await edit_caption(
        gallery.bot,
        chat_id=gallery.chat_id,
        message_id=card_id,
        caption=caption(image, starred=card.starred),
        reply_markup=gallery_card_keyboard(card),
    )


async def _edit_markup(bot: Bot, message: Message, markup: InlineKeyboardMarkup) -> None:
    await edit_markup(
        bot, chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
    )


async def _image_file(
    gallery: Gallery, images: ImageWorkers, image: AiLunaImage, url: str
) -> BufferedInputFile:
    """The image downloaded and made fit for sendPhoto. Raises ServiceError."""
    data = await gallery.providers.ailuna.download_image(gallery.credential, url=url)
    photo = await images.photo(data)
    extension = photo.mime_type.partition("/")[2] or "jpeg"
    return BufferedInputFile(photo.data, filename=f"ailuna-{image.id}.{extension}")


async def open_button(
    query: CallbackQuery,
    callback_data: GalleryAction,
    pressed: Message,
    gallery: Gallery,
    images: ImageWorkers,
) -> None:
    """An image of the list: its card, a photo with the image's buttons."""
    try:
        image = await gallery.providers.ailuna.show(
            gallery.credential, image_id=callback_data.image_id
        )
        if image.url is None:
            await query.answer(_("This image is still being made. Try again in a moment."))
            return
        photo = await _image_file(gallery, images, image, image.url)
    except NotFoundError as e:
        # The list shows an image AiLuna no longer has: show the list as it now is.
        with suppress(ServiceError):
            await put_list(gallery, list_id=pressed.message_id, view=callback_data.view())
        await query.answer(error_text(e), show_alert=True)
        return
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    starred = bool(image.favorite)
    card = callback_data.model_copy(update={"starred": starred, "list_id": pressed.message_id})
    await gallery.bot.send_photo(
        chat_id=pressed.chat.id,
        photo=photo,
        caption=caption(image, starred=starred),
        reply_markup=gallery_card_keyboard(card),
    )
    await query.answer()


async def star_button(
    query: CallbackQuery, callback_data: GalleryAction, pressed: Message, gallery: Gallery
) -> None:
    """⭐ on a card: add the image to the user's favorites, or take it out; the card follows."""

    async def show(image: AiLunaImage, starred: bool) -> None:
        await show_card(
            gallery,
            card_id=pressed.message_id,
            image=image,
            card=callback_data.model_copy(update={"starred": starred}),
        )

    async def gone() -> None:
        await back_to_list(gallery, card_id=pressed.message_id, card=callback_data)

    await toggle_favorite(
        query,
        gallery.providers,
        gallery.credential,
        image_id=callback_data.image_id,
        wanted=not callback_data.starred,
        show=show,
        gone=gone,
    )


async def delete_button(
    query: CallbackQuery, callback_data: GalleryAction, pressed: Message, bot: Bot
) -> None:
    """🗑 on a card: its buttons become ✅ yes / ✖️ no."""
    await _edit_markup(bot, pressed, gallery_delete_keyboard(callback_data))
    await query.answer(_("Delete this image for good? This cannot be undone."), show_alert=True)


async def keep_button(
    query: CallbackQuery, callback_data: GalleryAction, pressed: Message, bot: Bot
) -> None:
    """✖️ no: the card's own buttons again, nothing deleted."""
    await _edit_markup(bot, pressed, gallery_card_keyboard(callback_data))
    await query.answer()


async def confirm_delete_button(
    query: CallbackQuery, callback_data: GalleryAction, pressed: Message, gallery: Gallery
) -> None:
    """✅ yes: delete the image at AiLuna; the card goes and the list shows without it."""
    try:
        await gallery.providers.ailuna.delete(gallery.credential, image_id=callback_data.image_id)
    except NotFoundError as e:  # already gone: the list is what matters now
        said = error_text(e)
    except ServiceError as e:
        await _edit_markup(gallery.bot, pressed, gallery_card_keyboard(callback_data))
        await query.answer(error_text(e), show_alert=True)
        return
    else:
        logger.info("user %d deleted AiLuna image %s", query.from_user.id, callback_data.image_id)
        said = _("🗑 Deleted.")
    await back_to_list(gallery, card_id=pressed.message_id, card=callback_data)
    await query.answer(said)


async def back_button(
    query: CallbackQuery, callback_data: GalleryAction, pressed: Message, gallery: Gallery
) -> None:
    """↩️ on a card: the card goes, and its list shows again, refreshed."""
    await back_to_list(gallery, card_id=pressed.message_id, card=callback_data)
    await query.answer()
