"""The AiLuna images API client: every endpoint, and generation as a store then shows."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote, urlsplit

import aiohttp

from services.ailuna.errors import map_error
from services.ailuna.filters import list_query
from services.ailuna.models import (
    HTTP_PORTS,
    AiLunaImage,
    ImagePage,
    parse_image,
    parse_page,
    parse_wrapped_image,
    resource_or_none,
)
from services.ailuna.options import (
    DEFAULT_PER_PAGE,
    FILTERS,
    MEDIUMS,
    PROVIDER,
    RESOLUTIONS,
    STYLES,
    AiLunaCredential,
    checked,
    flag,
    non_empty,
    short_name,
)
from services.base import (
    GeneratedImage,
    ImageGenerator,
    OptionSpec,
    Pending,
    Submission,
    generated_image,
)
from services.exceptions import BadRequestError
from services.http import DEFAULT_TIMEOUT, HttpClient, RequestObserver, RetryPolicy, describe_url

logger = logging.getLogger(__name__)

BASE_URL = "https://ailuna.ru"

_IMAGES = "/api/v1/images"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


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
            error_mapper=map_error,
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
        params = list_query(
            search=search,
            search_by=search_by,
            resolution=resolution,
            style=style,
            medium=medium,
            filter=filter,
            favorite=favorite,
            sort_by=sort_by,
            sort=sort,
            per_page=per_page,
            page=page,
        )
        response = await self._api.request(
            "GET", _IMAGES, safe=True, accept=(200,), params=params, headers=_headers(credential)
        )
        return parse_page(
            response,
            page=page or 1,
            per_page=per_page or DEFAULT_PER_PAGE,
            base_url=self._api.base_url,
        )

    async def show(self, credential: AiLunaCredential, *, image_id: str) -> AiLunaImage:
        """One image of the user's; NotFoundError if it is not theirs or does not exist."""
        response = await self._api.request(
            "GET", _image_path(image_id), safe=True, accept=(200,), headers=_headers(credential)
        )
        return parse_wrapped_image(response, base_url=self._api.base_url)

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
            "name": non_empty("name", name),
            "description": non_empty("description", description),
            "resolution": checked("resolution", resolution, RESOLUTIONS),
        }
        for option, value, allowed in (
            ("style", style, STYLES),
            ("medium", medium, MEDIUMS),
            ("filter", filter, FILTERS),
        ):
            if value is not None:
                form[option] = checked(option, value, allowed)
        response = await self._api.request(
            "POST",
            _IMAGES,
            safe=False,
            accept=(200, 201, 202),
            form=form,
            headers=_headers(credential),
        )
        image = parse_wrapped_image(response, base_url=self._api.base_url)
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
            form["name"] = non_empty("name", name)
        if favorite is not None:
            form["favorite"] = flag(favorite)
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
        resource = resource_or_none(response)
        if resource is None:
            # No image in the answer (204, or only a message): read it back rather than guess.
            return await self.show(credential, image_id=image_id)
        return parse_image(resource, response, base_url=self._api.base_url)

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
        if urlsplit(url).scheme.lower() not in HTTP_PORTS:
            raise BadRequestError(f"{describe_url(url)} is not an http(s) link", provider=PROVIDER)
        # The key goes only to the provider itself, never to a storage or CDN host.
        headers = (
            {"Authorization": _bearer(credential)}
            if _origin(url) == _origin(self._api.base_url)
            else None
        )
        return await self._api.download(url, max_bytes=self._max_result_bytes, headers=headers)


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


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or HTTP_PORTS.get(scheme)
