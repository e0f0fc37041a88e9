"""A media task as the API describes it, read strictly from the documented shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from services.exceptions import BadRequestError, UnexpectedResponseError
from services.gptunnel.credential import PROVIDER
from services.gptunnel.errors import detail, refusal
from services.http import HttpResponse

TASK_ID = re.compile(r"[0-9a-fA-F]{24}")


@dataclass(frozen=True, slots=True)
class MediaTask:
    """A media task as /v1/media/create and /v1/media/result describe it."""

    id: str
    model: str
    prompt: str
    status: str
    url: str | None
    created_at: int | None


def parse_task(response: HttpResponse) -> MediaTask:
    """A task from the documented shape; code != 0 is the provider refusing the request."""
    payload = response.json_object()
    code = payload.get("code")
    if type(code) is not int:
        raise _unexpected(response, "'code' is missing or not an integer")
    if code != 0:
        raise refusal(response, payload) or BadRequestError(
            f"{response.where} refused the request ({detail(response, payload)})",
            provider=PROVIDER,
            status=response.status,
        )
    task_id = _field(response, payload, "id", str)
    if not TASK_ID.fullmatch(task_id):
        raise _unexpected(response, "'id' is not 24 hexadecimal digits")
    url = _field(response, payload, "url", str, nullable=True)
    if url is not None and not _is_absolute(url):
        raise _unexpected(response, "'url' is not an absolute http(s) URL")
    status = _field(response, payload, "status", str)
    if not status:
        raise _unexpected(response, "'status' is empty")
    return MediaTask(
        id=task_id,
        model=_field(response, payload, "model", str),
        prompt=_field(response, payload, "prompt", str),
        status=status,
        url=url,
        created_at=_field(response, payload, "created_at", int, nullable=True),
    )


def _field(
    response: HttpResponse,
    payload: Mapping[str, Any],
    key: str,
    kind: type[Any],
    *,
    nullable: bool = False,
) -> Any:
    """A documented field, present and of its documented type (bool is not an int)."""
    if key not in payload:
        raise _unexpected(response, f"{key!r} is missing")
    value = payload[key]
    if value is None and nullable:
        return None
    if type(value) is not kind:
        raise _unexpected(response, f"{key!r} is not a {kind.__name__}")
    return value


def _is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _unexpected(response: HttpResponse, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{response.where} answered an unexpected body: {what}",
        provider=PROVIDER,
        status=response.status,
    )
