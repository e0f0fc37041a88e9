"""The search text of each searched list message, kept in FSM data.

A search's text may not fit a button's 64 bytes, so it stays in FSM data keyed by the list
message it belongs to; buttons only say whether their list has one. The rest of a view (page,
favorites only, sort) is in the buttons themselves, so lists keep working after a restart,
which empties the FSM memory: a searched list's buttons then show the unsearched list.
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext

from handlers.gallery.callbacks import GalleryView

SEARCHES_KEPT = 20
"""Searched lists per user whose search text is remembered (older ones show unsearched)."""

_SEARCHES = "gallery_searches"


async def remember_search(state: FSMContext, list_id: int, search: str) -> None:
    """Keep the search of this list message, forgetting the oldest beyond SEARCHES_KEPT."""
    searches = dict((await state.get_data()).get(_SEARCHES) or {})
    searches[str(list_id)] = search
    # Insertion order is age: keep the newest few.
    await state.update_data({_SEARCHES: dict(list(searches.items())[-SEARCHES_KEPT:])})


async def search_of(state: FSMContext, view: GalleryView, list_id: int) -> str | None:
    """The search of a list message whose view says it has one, if still remembered."""
    if not view.searched:
        return None
    search = ((await state.get_data()).get(_SEARCHES) or {}).get(str(list_id))
    return search if isinstance(search, str) else None
