"""AiLuna's answers as models: one image, one page of images, read leniently from JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from services.ailuna.options import PROVIDER
from services.exceptions import UnexpectedResponseError
from services.http import HttpResponse

HTTP_PORTS = {"http": 80, "https": 443}
"""The schemes a link may have, with their default ports."""


@dataclass(frozen=True, slots=True)
class AiLunaImage:
    """One stored image; `url` is None while the provider has not made it yet."""

    id: str
    name: str
    url: str | None
    favorite: bool | None = None
    resolution: str | None = None
    style: str | None = None
    medium: str | None = None
    filter: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ImagePage:
    """One page of a user's images; `total`/`last_page` are None when the provider omits them."""

    items: tuple[AiLunaImage, ...]
    page: int
    per_page: int
    total: int | None = None
    last_page: int | None = None


def parse_image(value: Any, response: HttpResponse, *, base_url: str) -> AiLunaImage:
    """An image object; relative links are resolved against `base_url`."""
    if not isinstance(value, dict):
        raise _unexpected(response, "an image is not a JSON object")
    raw_id = value.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or raw_id == "":
        raise _unexpected(response, "an image has no id")
    return AiLunaImage(
        id=str(raw_id),
        name=_text(value.get("name")) or "",
        url=_link(value, response, base_url),
        favorite=_bool(value.get("favorite")),
        resolution=_text(value.get("resolution")),
        style=_text(value.get("style")),
        medium=_text(value.get("medium")),
        filter=_text(value.get("filter")),
        description=_text(value.get("description")),
    )


def parse_wrapped_image(response: HttpResponse, *, base_url: str) -> AiLunaImage:
    """The image of an answer, bare or under `data`."""
    value = response.json()
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        value = value["data"]
    return parse_image(value, response, base_url=base_url)


def parse_page(response: HttpResponse, *, page: int, per_page: int, base_url: str) -> ImagePage:
    """A list answer: a bare array, or Laravel's `data` with `meta`/`links` pagination."""
    value = response.json()
    if isinstance(value, list):
        return ImagePage(
            items=tuple(parse_image(v, response, base_url=base_url) for v in value),
            page=page,
            per_page=per_page,
        )
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise _unexpected(response, "a list is neither an array nor has a data array")
    meta = value.get("meta")
    meta = meta if isinstance(meta, dict) else value
    last_page = _int(meta.get("last_page"))
    links = value.get("links")
    if last_page is None and isinstance(links, dict):
        last_page = _page_of(links.get("last"))
    return ImagePage(
        items=tuple(parse_image(v, response, base_url=base_url) for v in value["data"]),
        page=_int(meta.get("current_page")) or page,
        per_page=_int(meta.get("per_page")) or per_page,
        total=_int(meta.get("total")),
        last_page=last_page,
    )


def resource_or_none(response: HttpResponse) -> Any:
    """The image object in an answer (bare or under `data`), or None when there is none."""
    if not response.body.strip():
        return None
    value = response.json()
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        value = value["data"]
    return value if isinstance(value, dict) and "id" in value else None


def _link(value: Mapping[str, Any], response: HttpResponse, base_url: str) -> str | None:
    for key in ("url", "image_url", "path"):
        link = _text(value.get(key))
        if link:
            absolute = urljoin(f"{base_url}/", link)
            if urlsplit(absolute).scheme not in HTTP_PORTS:
                raise _unexpected(response, f"an image's {key} is not an http(s) link")
            return absolute
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (1, "1", "true"):
        return True
    if value in (0, "0", "false"):
        return False
    return None


def _page_of(link: Any) -> int | None:
    if not isinstance(link, str):
        return None
    pages = parse_qs(urlsplit(link).query).get("page")
    return _int(pages[0]) if pages else None


def _unexpected(response: HttpResponse, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{response.where}: {what}", provider=PROVIDER, status=response.status
    )
