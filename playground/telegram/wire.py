"""The Bot API's wire format: requests (query, form, multipart, JSON) in, JSON answers out."""

from __future__ import annotations

import email.message
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from playground.telegram.errors import ApiError, bad

# Form values that stay strings; every other one is JSON (numbers, booleans, objects) as aiogram
# encodes it.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "action",
        "callback_query_id",
        "inline_query_id",
        "next_offset",
        "file_id",
        "language_code",
        "url",
        "photo",
        "document",
        "inline_message_id",
        "emoji",
        "business_connection_id",
        "message_effect_id",
    }
)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


Params = dict[str, Any]
Files = dict[str, UploadedFile]


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API call as the emulator read it; `error` is the description it answered, if any."""

    method: str
    params: Params
    files: Files = field(default_factory=dict)
    error: str | None = None

    def file(self, name: str) -> UploadedFile | None:
        """The upload a parameter refers to, by `attach://` or as the part of that name."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return self.files.get(name)

    @property
    def chat_id(self) -> int | None:
        """The numeric chat_id parameter, if the call has one."""
        return chat_id_of(self.params)


def chat_id_of(params: Params) -> int | None:
    """The chat_id parameter as a number, None if absent or a @username."""
    value = params.get("chat_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


async def read_params(request: web.Request) -> tuple[Params, Files]:
    """Query string, form, multipart or JSON parameters, decoded as the Bot API reads them."""
    raw: dict[str, str] = dict(request.query)
    files: Files = {}
    if request.method == "POST":
        body = await request.read()  # cached: a recording middleware may have read it already
        if request.content_type == "application/json":
            decoded = json.loads(body or b"{}")
            if not isinstance(decoded, dict):
                raise bad("parameters must be a JSON object")
            return {**raw, **decoded}, files
        if request.content_type == "multipart/form-data":
            boundary = _header_param(request.headers["Content-Type"], "content-type", "boundary")
            for name, upload, value in _multipart(body, boundary):
                if upload is not None:
                    files[name] = upload
                else:
                    raw[name] = value
        else:
            raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {key: _decode(key, value) for key, value in raw.items()}, files


def _decode(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _header_param(header: str, name: str, param: str) -> str:
    holder = email.message.Message()
    holder[name] = header
    value = holder.get_param(param, header=name)
    if not isinstance(value, str):
        raise bad(f"no {param} in {name}")
    return value


def _multipart(body: bytes, boundary: str) -> Iterator[tuple[str, UploadedFile | None, str]]:
    """(name, upload or None, text value) for each part of a multipart/form-data body."""
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            return
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = email.message_from_bytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise bad("multipart part without a name")
        filename = headers.get_filename()
        if filename is None:
            yield name, None, data.decode()
        else:
            content_type = headers.get("content-type", "application/octet-stream")
            yield name, UploadedFile(filename, str(content_type), data), ""


def int_param(params: Params, key: str, default: int) -> int:
    """An integer parameter, refused as Telegram refuses a malformed one."""
    value = params.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad(f"wrong {key} specified") from None


def upload_of(value: Any, files: Files, what: str) -> UploadedFile | None:
    """The uploaded file a parameter names, or None when it is a file id."""
    if isinstance(value, str) and value.startswith("attach://"):
        upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad(f"there is no {what} in the request")
        return upload
    if what in files and value is None:
        return files[what]
    if value is None or value == "":
        raise bad(f"there is no {what} in the request")
    return None


def ok_response(result: Any) -> web.Response:
    """A successful answer."""
    return web.json_response({"ok": True, "result": result})


def error_response(error: ApiError) -> web.Response:
    """An error answer, with `parameters.retry_after` for a flood wait."""
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.code)
