"""Laravel-style refusals and the checks every route makes on a request's fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web


def error(
    kind: type[web.HTTPException], message: str, errors: dict[str, list[str]] | None = None
) -> web.HTTPException:
    body: dict[str, Any] = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return kind(text=json.dumps(body), content_type="application/json")


def invalid(errors: dict[str, list[str]]) -> web.HTTPException:
    first = next(iter(errors.values()))[0]
    more = sum(len(v) for v in errors.values()) - 1
    message = first if not more else f"{first} (and {more} more errors)"
    return error(web.HTTPUnprocessableEntity, message, errors)


def unknown_fields(given: Mapping[str, str], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise error(web.HTTPBadRequest, f"{where}: unknown fields {', '.join(unknown)}")
