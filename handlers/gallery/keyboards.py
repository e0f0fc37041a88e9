"""The gallery's inline keyboards: the list, an image's card, delete and rename prompts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards import link_keyboard
from handlers.gallery.callbacks import (
    GALLERY_IMAGE_ID,
    GALLERY_PAGE_MAX,
    GalleryAction,
    GalleryButton,
    GallerySort,
    GalleryView,
)
from services.ailuna import AiLunaImage

_GALLERY_LABEL_MAX = 40
_NEXT_SORT = {
    GallerySort.NEWEST: GallerySort.OLDEST,
    GallerySort.OLDEST: GallerySort.NAME,
    GallerySort.NAME: GallerySort.NEWEST,
}


def gallery_keyboard(
    images: Sequence[AiLunaImage], *, view: GalleryView, has_next: bool
) -> InlineKeyboardMarkup:
    """The /gallery list: a button per image, ◀️ ▶️ where they lead somewhere, filter and sort."""
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for image in images:
        if not re.fullmatch(GALLERY_IMAGE_ID, image.id):
            continue  # too long for a button's 64 bytes; AiLuna's ids are numbers
        builder.button(
            text=_gallery_label(image),
            callback_data=GalleryAction.bound(
                GalleryButton.OPEN, image_id=image.id, starred=bool(image.favorite), view=view
            ),
        )
        sizes.append(1)
    paging = 0
    if view.page > 1:
        builder.button(text=_("◀️ Previous"), callback_data=view.moved(page=view.page - 1))
        paging += 1
    if has_next and view.page < GALLERY_PAGE_MAX:
        builder.button(text=_("Next ▶️"), callback_data=view.moved(page=view.page + 1))
        paging += 1
    if paging:
        sizes.append(paging)
    builder.button(
        text=_("🖼 All images") if view.favorites else _("⭐ Favorites only"),
        callback_data=view.moved(page=1, favorites=not view.favorites),
    )
    sort_labels = {
        GallerySort.NEWEST: _("↕️ Newest first"),
        GallerySort.OLDEST: _("↕️ Oldest first"),
        GallerySort.NAME: _("↕️ By name"),
    }
    builder.button(
        text=sort_labels[view.sort], callback_data=view.moved(page=1, sort=_NEXT_SORT[view.sort])
    )
    sizes.append(2)
    builder.adjust(*sizes)
    return builder.as_markup()


def gallery_card_keyboard(card: GalleryAction) -> InlineKeyboardMarkup:
    """Under an image's card: ⭐ favorite, ✏️ rename, 🗑 delete, ↩️ back to the list."""
    builder = InlineKeyboardBuilder()
    star = _("★ In favorites") if card.starred else _("⭐ Add to favorites")
    builder.button(text=star, callback_data=_acting(card, GalleryButton.STAR))
    builder.button(text=_("✏️ Rename"), callback_data=_acting(card, GalleryButton.RENAME))
    builder.button(text=_("🗑 Delete"), callback_data=_acting(card, GalleryButton.DELETE))
    builder.button(text=_("↩️ Back to the list"), callback_data=_acting(card, GalleryButton.BACK))
    builder.adjust(1, 2, 1)
    return builder.as_markup()


def gallery_delete_keyboard(card: GalleryAction) -> InlineKeyboardMarkup:
    """In place of the card's buttons while 🗑 waits for a yes or no."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Yes, delete it"), callback_data=_acting(card, GalleryButton.CONFIRM_DELETE)
    )
    builder.button(text=_("✖️ No, keep it"), callback_data=_acting(card, GalleryButton.KEEP))
    return builder.as_markup()


def gallery_rename_keyboard(card: GalleryAction) -> InlineKeyboardMarkup:
    """Under the "send the new name" prompt: give up renaming."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✖️ Cancel"), callback_data=_acting(card, GalleryButton.STOP_RENAME))
    return builder.as_markup()


def gallery_link_keyboard(url: str) -> InlineKeyboardMarkup:
    """One button that opens the gallery in the private chat with the bot."""
    return link_keyboard(_("🖼 Open the gallery in private chat"), url)


def _gallery_label(image: AiLunaImage) -> str:
    name = " ".join(image.name.split()) or f"#{image.id}"
    if len(name) > _GALLERY_LABEL_MAX:
        name = name[: _GALLERY_LABEL_MAX - 1].rstrip() + "…"
    return f"⭐ {name}" if image.favorite else name


def _acting(card: GalleryAction, action: GalleryButton) -> GalleryAction:
    return card.model_copy(update={"action": action})
