"""AiLuna images: list, show, store (generate), update and delete a user's images."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import aiohttp

from services.base import (
    GeneratedImage,
    ImageGenerator,
    OptionSpec,
    Pending,
    SingleSecretCredential,
    Submission,
    generated_image,
)
from services.exceptions import (
    AuthError,
    BadRequestError,
    InvalidOptionError,
    NotFoundError,
    OutOfCreditsError,
    ProviderError,
    RateLimitedError,
    UnexpectedResponseError,
)
from services.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    HttpResponse,
    RequestObserver,
    RetryPolicy,
    describe_url,
)

logger = logging.getLogger(__name__)

PROVIDER = "ailuna"
BASE_URL = "https://ailuna.ru"

RESOLUTIONS = ("256x256", "512x512", "1024x1024")
STYLES = (
    "3d_render",
    "abstract",
    "anime",
    "art_deco",
    "cartoon",
    "digital_art",
    "illustration",
    "origami",
    "pixel_art",
    "photography",
    "pop_art",
    "retro",
    "sketch",
    "vaporwave",
)
MEDIUMS = (
    "acrylic",
    "canvas",
    "chalk",
    "charcoal",
    "crayon",
    "glass",
    "ink",
    "pastel",
    "pencil",
    "spray_paint",
    "watercolor",
)
FILTERS = ("grayscale", "sepia", "invert")
SEARCH_BY = ("name",)
PER_PAGE = (10, 25, 50, 100)
SORT_BY = ("id", "name")
SORT = ("desc", "asc")

DEFAULT_PER_PAGE = 25
"""The page size the provider uses when none is asked for (its document says so)."""

NAME_MAX = 60
"""Longest image name `submit` derives from a prompt (the bot's product decision)."""

_IMAGES = "/api/v1/images"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# Words in a 402/403 message that mean the plan or balance ran out, not a rejected key.
_CREDIT_WORDS = (
    "plan",
    "limit",
    "credit",
    "balance",
    "quota",
    "subscription",
    "upgrade",
    "тариф",
    "лимит",
    "баланс",
    "кредит",
    "подписк",
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AiLunaCredential(SingleSecretCredential):
    """An AiLuna API key, sent as a Bearer token."""

    provider = PROVIDER
    fields = ("api_key",)


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


class AiLunaClient(ImageGenerator[AiLunaCredential]):
    """The AiLuna images API: generation is a store, then shows until the image has a link."""

    name = PROVIDER
    credential_type = AiLunaCredential
    options = (
        OptionSpec("res", RESOLUTIONS, default="1024x1024"),
        OptionSpec("style", STYLES),
        OptionSpec("medium", MEDIUMS),
        OptionSpec("filter", FILTERS),
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str = BASE_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        observer: RequestObserver | None = None,
        max_result_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self._api = HttpClient(
            session,
            provider=PROVIDER,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            observer=observer,
            error_mapper=_map_error,
        )
        self._max_result_bytes = max_result_bytes

    async def list_images(
        self,
        credential: AiLunaCredential,
        *,
        search: str | None = None,
        search_by: str | None = None,
        resolution: str | None = None,
        style: str | None = None,
        medium: str | None = None,
        filter: str | None = None,  # The provider's own parameter name.
        favorite: bool | None = None,
        sort_by: str | None = None,
        sort: str | None = None,
        per_page: int | None = None,
        page: int | None = None,
    ) -> ImagePage:
        """One page of the user's images; only the given parameters are sent."""
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
                params[option] = _checked(option, value, allowed)
        if favorite is not None:
            params["favorite"] = _flag(favorite)
        if per_page is not None:
            params["per_page"] = _checked("per_page", str(per_page), [str(n) for n in PER_PAGE])
        if page is not None:
            if page < 1:
                raise BadRequestError("page must be 1 or more", provider=PROVIDER)
            params["page"] = str(page)
        response = await self._api.request(
            "GET", _IMAGES, safe=True, accept=(200,), params=params, headers=_headers(credential)
        )
        return self._page(response, page=page or 1, per_page=per_page or DEFAULT_PER_PAGE)

    async def show(self, credential: AiLunaCredential, *, image_id: str) -> AiLunaImage:
        """One image of the user's; NotFoundError if it is not theirs or does not exist."""
        response = await self._api.request(
            "GET", _image_path(image_id), safe=True, accept=(200,), headers=_headers(credential)
        )
        return self._image(response)

    async def store(
        self,
        credential: AiLunaCredential,
        *,
        name: str,
        description: str,
        resolution: str,
        style: str | None = None,
        medium: str | None = None,
        filter: str | None = None,  # The provider's own parameter name.
    ) -> AiLunaImage:
        """Create (generate, paid) an image from `description`; never re-sent after a timeout."""
        form = {
            "name": _non_empty("name", name),
            "description": _non_empty("description", description),
            "resolution": _checked("resolution", resolution, RESOLUTIONS),
        }
        for option, value, allowed in (
            ("style", style, STYLES),
            ("medium", medium, MEDIUMS),
            ("filter", filter, FILTERS),
        ):
            if value is not None:
                form[option] = _checked(option, value, allowed)
        response = await self._api.request(
            "POST",
            _IMAGES,
            safe=False,
            accept=(200, 201, 202),
            form=form,
            headers=_headers(credential),
        )
        image = self._image(response)
        logger.info("%s stored image %s", PROVIDER, image.id)
        return image

    async def update(
        self,
        credential: AiLunaCredential,
        *,
        image_id: str,
        name: str | None = None,
        favorite: bool | None = None,
        method: Literal["PUT", "PATCH"] = "PATCH",
    ) -> AiLunaImage:
        """Rename an image or (un)mark it favorite; returns the image as it now is."""
        form: dict[str, str] = {}
        if name is not None:
            form["name"] = _non_empty("name", name)
        if favorite is not None:
            form["favorite"] = _flag(favorite)
        if not form:
            raise BadRequestError("update needs a name or favorite", provider=PROVIDER)
        response = await self._api.request(
            method,
            _image_path(image_id),
            safe=True,  # Setting the same fields twice leaves the same image.
            accept=(200, 201, 202, 204),
            form=form,
            headers=_headers(credential),
        )
        resource = _resource_or_none(response)
        if resource is None:
            # No image in the answer (204, or only a message): read it back rather than guess.
            return await self.show(credential, image_id=image_id)
        return self._parse_image(resource, response)

    async def delete(self, credential: AiLunaCredential, *, image_id: str) -> None:
        """Delete an image; NotFoundError if it is not there (already deleted, or not theirs)."""
        await self._api.request(
            "DELETE",
            _image_path(image_id),
            safe=True,  # A repeated delete cannot delete anything else.
            accept=(200, 202, 204),
            headers=_headers(credential),
        )
        logger.info("%s deleted image %s", PROVIDER, image_id)

    async def submit(
        self, credential: AiLunaCredential, *, prompt: str, options: Mapping[str, str]
    ) -> Submission:
        """Store an image made from `prompt`, named after the prompt's start."""
        resolved = self.validate_options(options)
        if not prompt.strip():
            raise BadRequestError("the prompt is empty", provider=PROVIDER)
        image = await self.store(
            credential,
            name=short_name(prompt),
            description=prompt.strip(),
            resolution=resolved["res"],
            style=resolved.get("style"),
            medium=resolved.get("medium"),
            filter=resolved.get("filter"),
        )
        return Submission(task_id=image.id)

    async def poll(self, credential: AiLunaCredential, *, task_id: str) -> Pending | GeneratedImage:
        """Show the stored image; Pending until it has a link, then its downloaded bytes."""
        image = await self.show(credential, image_id=task_id)
        if image.url is None:
            return Pending("processing")
        return generated_image(
            await self.download_image(credential, url=image.url),
            provider=PROVIDER,
            where=f"image {image.id}: {describe_url(image.url)}",
            remote_id=image.id,
        )

    async def download_image(self, credential: AiLunaCredential, *, url: str) -> bytes:
        """The bytes behind an image's link (at most `max_result_bytes`), not checked further."""
        if urlsplit(url).scheme.lower() not in _DEFAULT_PORTS:
            raise BadRequestError(f"{describe_url(url)} is not an http(s) link", provider=PROVIDER)
        # The key goes only to the provider itself, never to a storage or CDN host.
        headers = (
            {"Authorization": _bearer(credential)}
            if _origin(url) == _origin(self._api.base_url)
            else None
        )
        return await self._api.download(url, max_bytes=self._max_result_bytes, headers=headers)

    def _image(self, response: HttpResponse) -> AiLunaImage:
        value = response.json()
        if isinstance(value, dict) and isinstance(value.get("data"), dict):
            value = value["data"]
        return self._parse_image(value, response)

    def _parse_image(self, value: Any, response: HttpResponse) -> AiLunaImage:
        if not isinstance(value, dict):
            raise _unexpected(response, "an image is not a JSON object")
        raw_id = value.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or raw_id == "":
            raise _unexpected(response, "an image has no id")
        return AiLunaImage(
            id=str(raw_id),
            name=_text(value.get("name")) or "",
            url=self._link(value, response),
            favorite=_bool(value.get("favorite")),
            resolution=_text(value.get("resolution")),
            style=_text(value.get("style")),
            medium=_text(value.get("medium")),
            filter=_text(value.get("filter")),
            description=_text(value.get("description")),
        )

    def _link(self, value: Mapping[str, Any], response: HttpResponse) -> str | None:
        for key in ("url", "image_url", "path"):
            link = _text(value.get(key))
            if link:
                absolute = urljoin(f"{self._api.base_url}/", link)
                if urlsplit(absolute).scheme not in _DEFAULT_PORTS:
                    raise _unexpected(response, f"an image's {key} is not an http(s) link")
                return absolute
        return None

    def _page(self, response: HttpResponse, *, page: int, per_page: int) -> ImagePage:
        value = response.json()
        if isinstance(value, list):
            return ImagePage(
                items=tuple(self._parse_image(v, response) for v in value),
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
            items=tuple(self._parse_image(v, response) for v in value["data"]),
            page=_int(meta.get("current_page")) or page,
            per_page=_int(meta.get("per_page")) or per_page,
            total=_int(meta.get("total")),
            last_page=last_page,
        )


def short_name(prompt: str) -> str:
    """An image name from a prompt: whitespace collapsed, cut at a word to NAME_MAX characters."""
    text = " ".join(prompt.split())
    if len(text) <= NAME_MAX:
        return text
    cut = text[: NAME_MAX - 1]
    # Cut at the last space unless that would throw away more than half of the name.
    space = cut.rfind(" ")
    if space >= NAME_MAX // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _bearer(credential: AiLunaCredential) -> str:
    return f"Bearer {credential.secret}"


def _headers(credential: AiLunaCredential) -> dict[str, str]:
    return {"Authorization": _bearer(credential), "Accept": "application/json"}


def _image_path(image_id: str) -> str:
    if not _ID.fullmatch(image_id):
        raise BadRequestError(
            "an image id is letters, digits, '-' or '_' (at most 128)", provider=PROVIDER
        )
    return f"{_IMAGES}/{quote(image_id, safe='')}"


def _checked(option: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InvalidOptionError(provider=PROVIDER, option=option, value=value, allowed=allowed)
    return value


def _non_empty(field: str, value: str) -> str:
    if not value.strip():
        raise BadRequestError(f"{field} is empty", provider=PROVIDER)
    return value


def _flag(value: bool) -> str:
    # Laravel's `boolean` rule accepts "1"/"0" in a query or form; "true"/"false" it does not.
    return "1" if value else "0"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


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


def _resource_or_none(response: HttpResponse) -> Any:
    """The image object in an answer (bare or under `data`), or None when there is none."""
    if not response.body.strip():
        return None
    value = response.json()
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        value = value["data"]
    return value if isinstance(value, dict) and "id" in value else None


def _unexpected(response: HttpResponse, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{response.where}: {what}", provider=PROVIDER, status=response.status
    )


def _error_body(response: HttpResponse) -> tuple[str | None, tuple[str, ...]]:
    """The `message` and the names of the fields in `errors` of a Laravel error body."""
    try:
        value = response.json()
    except UnexpectedResponseError:
        return None, ()
    if not isinstance(value, dict):
        return None, ()
    message = value.get("message")
    message = " ".join(message.split())[:300] if isinstance(message, str) else None
    errors = value.get("errors")
    fields = tuple(str(k) for k in errors) if isinstance(errors, dict) else ()
    return message or None, fields


def _map_error(response: HttpResponse) -> ProviderError | None:
    """The typed error for AiLuna's Laravel error bodies; None leaves it to the status."""
    status = response.status
    message, fields = _error_body(response)
    said = f"{response.where} answered HTTP {status}" + (f": {message}" if message else "")
    if status in (400, 422):
        if fields:
            said += f" (fields: {', '.join(fields)})"
        return BadRequestError(said, provider=PROVIDER, status=status)
    if status in (402, 403):
        words = (message or "").casefold()
        if status == 402 or any(word in words for word in _CREDIT_WORDS):
            return OutOfCreditsError(said, provider=PROVIDER, status=status)
        return AuthError(said, provider=PROVIDER, status=status)
    if status == 401:
        return AuthError(said, provider=PROVIDER, status=status)
    if status == 404:
        return NotFoundError(said, provider=PROVIDER, status=status)
    if status == 429:
        return RateLimitedError(
            said, provider=PROVIDER, status=status, retry_after=response.retry_after()
        )
    return None
