"""⭐: add an AiLuna image to the user's favorites or take it out, under a result or on a card."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.error_texts import error_text
from services.ailuna import AiLunaCredential, AiLunaImage
from services.exceptions import NotFoundError, ServiceError
from services.registry import Providers

ShowStar = Callable[[AiLunaImage, bool], Awaitable[None]]
"""Shows the image starred (True) or not on the pressed message."""
OnGone = Callable[[], Awaitable[None]]
"""What the pressed message becomes when AiLuna no longer has the image."""


async def toggle_favorite(
    query: CallbackQuery,
    providers: Providers,
    credential: AiLunaCredential,
    *,
    image_id: str,
    wanted: bool,
    show: ShowStar,
    gone: OnGone | None = None,
) -> None:
    """Ask AiLuna to star (`wanted`) or unstar the image, show the outcome, and say it."""
    try:
        image = await providers.ailuna.update(credential, image_id=image_id, favorite=wanted)
    except NotFoundError as e:
        if gone is not None:
            await gone()
        await query.answer(error_text(e), show_alert=True)
        return
    except ServiceError as e:
        await query.answer(error_text(e), show_alert=True)
        return
    starred = wanted if image.favorite is None else image.favorite
    await show(image, starred)
    await query.answer(_("Added to favorites.") if starred else _("Removed from favorites."))
