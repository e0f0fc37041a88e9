"""/gallery: the user's AiLuna images paged with buttons, each image's card, renaming.

Private chats get the gallery; groups only a link to it, since the images are the user's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter

from bot.filters import DataStartsWith, PlainText
from handlers.common.stale import no_longer_valid
from handlers.gallery.access import PressedInOwnChat, PresserGallery
from handlers.gallery.callbacks import GalleryAction, GalleryButton, GalleryView
from handlers.gallery.card import (
    back_button,
    confirm_delete_button,
    delete_button,
    keep_button,
    open_button,
    star_button,
)
from handlers.gallery.listing import (
    GALLERY_DEEP_LINK,
    gallery_command,
    gallery_in_group,
    gallery_start,
    view_button,
)
from handlers.gallery.rename import (
    cancel_rename,
    leave_rename,
    rename_button,
    rename_text,
    stop_rename_button,
)
from handlers.gallery.states import GalleryStates

ButtonHandler = Callable[..., Awaitable[None]]


def create_private_router() -> Router:
    """The gallery in private chats, for the private scope router (which filters the chat).

    While renaming, its first sub-router takes /cancel, a plain text (the name), or ends the
    rename and lets anything else through: it must come before every other private router.
    """
    router = Router(name="gallery")
    renaming = Router(name="gallery_rename")
    renaming.message.filter(StateFilter(GalleryStates.rename))
    renaming.message.register(cancel_rename, Command("cancel"))
    renaming.message.register(rename_text, PlainText())
    renaming.message.register(leave_rename)
    commands = Router(name="gallery_commands")
    commands.message.register(gallery_command, Command("gallery"))
    commands.message.register(
        gallery_start, CommandStart(deep_link=True, magic=F.args == GALLERY_DEEP_LINK)
    )
    router.include_routers(renaming, commands, _buttons_router(), _stale_buttons_router())
    return router


def create_group_router() -> Router:
    """/gallery in groups: a link to the private chat, for the groups scope router."""
    router = Router(name="gallery_groups")
    router.message.register(gallery_in_group, Command("gallery"))
    return router


def _buttons_router() -> Router:
    """The gallery's buttons, each handler given the pressed message (and the presser's key)."""
    router = Router(name="gallery_buttons")
    router.callback_query.middleware(PressedInOwnChat())
    keyed = Router(name="gallery_keyed_buttons")
    keyed.callback_query.middleware(PresserGallery())
    keyed.callback_query.register(view_button, GalleryView.filter())
    _on_actions(
        keyed,
        (open_button, GalleryButton.OPEN),
        (star_button, GalleryButton.STAR),
        (confirm_delete_button, GalleryButton.CONFIRM_DELETE),
        (back_button, GalleryButton.BACK),
    )
    _on_actions(
        router,
        (rename_button, GalleryButton.RENAME),
        (stop_rename_button, GalleryButton.STOP_RENAME),
        (delete_button, GalleryButton.DELETE),
        (keep_button, GalleryButton.KEEP),
    )
    router.include_router(keyed)
    return router


def _on_actions(router: Router, *pairs: tuple[ButtonHandler, GalleryButton]) -> None:
    """Register each handler for the image buttons of its action."""
    for handler, action in pairs:
        router.callback_query.register(handler, GalleryAction.filter(F.action == action))


def _stale_buttons_router() -> Router:
    """Gallery buttons whose data does not parse (tampered, or from an older version)."""
    router = Router(name="gallery_stale_buttons")
    prefixes = (f"{GalleryView.__prefix__}:", f"{GalleryAction.__prefix__}:")
    router.callback_query.register(no_longer_valid, DataStartsWith(prefixes))
    return router
