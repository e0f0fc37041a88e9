"""The gallery's texts: the list's heading and page, an image's card caption."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.formatting import escape, shorten
from handlers.gallery.callbacks import GalleryView
from services.ailuna import AiLunaImage, ImagePage

_CAPTION_NAME_MAX = 200
_CAPTION_DESCRIPTION_MAX = 600


def list_text(page: ImagePage, view: GalleryView, search: str | None) -> str:
    """The list message: what it shows, and which page of how many."""
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


def caption(image: AiLunaImage, *, starred: bool) -> str:
    """An image's card: its name (⭐ when starred), details and description."""
    name = escape(shorten(" ".join(image.name.split()) or f"#{image.id}", _CAPTION_NAME_MAX))
    lines = [f"⭐ <b>{name}</b>" if starred else f"<b>{name}</b>"]
    details = [v for v in (image.resolution, image.style, image.medium, image.filter) if v]
    if details:
        lines.append(escape(" · ".join(details)))
    if image.description:
        lines.append(f"<i>{escape(shorten(image.description, _CAPTION_DESCRIPTION_MAX))}</i>")
    return "\n".join(lines)
