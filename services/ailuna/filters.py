"""The query of an image list: only the filters, sort and page that were given, each checked."""

from __future__ import annotations

from services.ailuna.options import (
    FILTERS,
    MEDIUMS,
    PER_PAGE,
    PROVIDER,
    RESOLUTIONS,
    SEARCH_BY,
    SORT,
    SORT_BY,
    STYLES,
    checked,
    flag,
)
from services.exceptions import BadRequestError


def list_query(
    *,
    search: str | None,
    search_by: str | None,
    resolution: str | None,
    style: str | None,
    medium: str | None,
    filter: str | None,  # The provider's own parameter name.
    favorite: bool | None,
    sort_by: str | None,
    sort: str | None,
    per_page: int | None,
    page: int | None,
) -> dict[str, str]:
    """The list endpoint's query parameters for the given arguments."""
    params: dict[str, str] = {}
    if search is not None:
        params["search"] = search
    for option, value, allowed in (
        ("search_by", search_by, SEARCH_BY),
        ("resolution", resolution, RESOLUTIONS),
        ("style", style, STYLES),
        ("medium", medium, MEDIUMS),
        ("filter", filter, FILTERS),
        ("sort_by", sort_by, SORT_BY),
        ("sort", sort, SORT),
    ):
        if value is not None:
            params[option] = checked(option, value, allowed)
    if favorite is not None:
        params["favorite"] = flag(favorite)
    if per_page is not None:
        params["per_page"] = checked("per_page", str(per_page), [str(n) for n in PER_PAGE])
    if page is not None:
        if page < 1:
            raise BadRequestError("page must be 1 or more", provider=PROVIDER)
        params["page"] = str(page)
    return params
