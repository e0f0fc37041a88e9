"""The data of the gallery's buttons: a list view, or an action on one image."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field


class GallerySort(StrEnum):
    """The order of the /gallery list."""

    NEWEST = "n"
    OLDEST = "o"
    NAME = "a"


GALLERY_PAGE_MAX = 9999
"""The last page a gallery button can name (it keeps image buttons within 64 bytes)."""
GALLERY_IMAGE_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
"""The image ids a button can carry: AiLuna's (numbers) fit; longer ones would pass 64 bytes."""


class GalleryView(CallbackData, prefix="gal"):
    """A page of the /gallery list as the user set it up; a search's text stays in FSM data."""

    page: Annotated[int, Field(ge=1, le=GALLERY_PAGE_MAX)] = 1
    favorites: bool = False
    sort: GallerySort = GallerySort.NEWEST
    searched: bool = False
    """Whether the list has a search, whose text is kept for that list message in FSM data."""

    def moved(self, **changes: object) -> GalleryView:
        """This view with some fields changed, validated (a page stays within bounds)."""
        return GalleryView.model_validate({**self.model_dump(), **changes})


class GalleryButton(StrEnum):
    """What a button bound to one gallery image does."""

    OPEN = "o"
    STAR = "s"
    RENAME = "r"
    STOP_RENAME = "x"
    DELETE = "d"
    CONFIRM_DELETE = "y"
    KEEP = "n"
    BACK = "b"


class GalleryAction(CallbackData, prefix="img"):
    """A button bound to one image: open it from the list, or act on its card."""

    action: GalleryButton
    image_id: Annotated[str, Field(pattern=GALLERY_IMAGE_ID)]
    starred: bool
    """Whether the card shows the image as a favorite."""
    list_id: Annotated[int, Field(ge=0)]
    """The list message the card came from; 0 on the list itself (the message pressed)."""
    page: Annotated[int, Field(ge=1, le=GALLERY_PAGE_MAX)]
    favorites: bool
    sort: GallerySort
    searched: bool

    @classmethod
    def bound(
        cls,
        action: GalleryButton,
        *,
        image_id: str,
        starred: bool,
        view: GalleryView,
        list_id: int = 0,
    ) -> GalleryAction:
        """The button for one image, remembering the list view to go back to."""
        return cls(
            action=action,
            image_id=image_id,
            starred=starred,
            list_id=list_id,
            page=view.page,
            favorites=view.favorites,
            sort=view.sort,
            searched=view.searched,
        )

    def view(self) -> GalleryView:
        """The list view the card came from."""
        return GalleryView(
            page=self.page, favorites=self.favorites, sort=self.sort, searched=self.searched
        )
