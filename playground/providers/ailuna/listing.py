"""The fake's image list: Laravel validation, filters, sort and a paginated answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from playground.providers.ailuna.checks import invalid, unknown_fields
from playground.providers.ailuna.state import (
    FILTERS,
    MEDIUMS,
    RESOLUTIONS,
    STYLES,
    AiLunaState,
    FakeImage,
)

_LIST_PARAMS = frozenset(
    {
        "search",
        "search_by",
        "resolution",
        "style",
        "medium",
        "filter",
        "favorite",
        "sort_by",
        "sort",
        "per_page",
        "page",
    }
)
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "search_by": ("name",),
    "resolution": RESOLUTIONS,
    "style": STYLES,
    "medium": MEDIUMS,
    "filter": FILTERS,
    "favorite": ("1", "0"),
    "sort_by": ("id", "name"),
    "sort": ("desc", "asc"),
    "per_page": ("10", "25", "50", "100"),
}


def list_answer(
    request: web.Request,
    state: AiLunaState,
    owner: str,
    *,
    resource: Callable[[web.Request, FakeImage], dict[str, Any]],
) -> web.Response:
    """One page of `owner`'s images as the query asks, or a 422 for an invalid query."""
    query = dict(request.query)
    unknown_fields(query, _LIST_PARAMS, "GET /api/v1/images")
    errors = {
        name: [f"The selected {name} is invalid."]
        for name, choices in _CHOICES.items()
        if name in query and query[name] not in choices
    }
    page_text = query.get("page", "1")
    if not page_text.isdigit() or int(page_text) < 1:
        errors["page"] = ["The page must be at least 1."]
    if errors:
        raise invalid(errors)
    images = [i for i in state.images.values() if i.owner == owner]
    if "search" in query:
        needle = query["search"].casefold()
        images = [i for i in images if needle in i.name.casefold()]
    for name in ("resolution", "style", "medium", "filter"):
        if name in query:
            images = [i for i in images if getattr(i, name) == query[name]]
    if "favorite" in query:
        images = [i for i in images if i.favorite == (query["favorite"] == "1")]
    descending = query.get("sort", "desc") == "desc"
    if query.get("sort_by", "id") == "name":
        images.sort(key=lambda i: (i.name.casefold(), i.id), reverse=descending)
    else:
        images.sort(key=lambda i: i.id, reverse=descending)
    per_page, page = int(query.get("per_page", "25")), int(page_text)
    chunk = images[(page - 1) * per_page : page * per_page]
    data = [resource(request, i) for i in chunk]
    if state.bare:
        return web.json_response(data)
    last_page = max(1, -(-len(images) // per_page))
    base = f"{request.url.origin()}/api/v1/images"
    return web.json_response(
        {
            "data": data,
            "links": {
                "first": f"{base}?page=1",
                "last": f"{base}?page={last_page}",
                "prev": None,
                "next": None,
            },
            "meta": {
                "current_page": page,
                "from": (page - 1) * per_page + 1 if chunk else None,
                "last_page": last_page,
                "path": base,
                "per_page": per_page,
                "to": (page - 1) * per_page + len(chunk) if chunk else None,
                "total": len(images),
            },
        }
    )
