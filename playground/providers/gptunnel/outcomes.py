"""Canned answers the fake serves instead of its normal ones, and how each goes on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Outcome:
    """A canned answer served instead of the normal one, after the request passed its checks."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    hang: bool = False
    """Answer nothing until the server shuts down."""
    size: int = 0
    """Stream this many filler bytes (a huge result) instead of `body`."""
    declare_length: bool = True
    """With `size`: send Content-Length; otherwise the body is chunked."""
    cut: bool = False
    """Close the connection without an answer (a reset after the request went out)."""
    truncate: bool = False
    """Send the headers with the full Content-Length and half of `body`, then close."""


def reply(payload: Any, *, status: int = 200) -> Outcome:
    """Answer this JSON."""
    return Outcome(status=status, body=json.dumps(payload).encode())


def refuse(
    status: int, message: str, *, code: int = 1, headers: Mapping[str, str] | None = None
) -> Outcome:
    """An error in the form the fake gives its own errors: {"code": n, "error": message}."""
    body = json.dumps({"code": code, "error": message}).encode()
    return Outcome(status=status, body=body, headers=dict(headers or {}))


def hang() -> Outcome:
    """Never answer (until the server shuts down)."""
    return Outcome(hang=True)


def malformed(status: int = 200) -> Outcome:
    """A body that is not JSON at all."""
    return Outcome(status=status, body=b'{"code": 0, "id": "6880f043e606', content_type="text/html")


def cut() -> Outcome:
    """The connection closed after the request arrived, without any answer."""
    return Outcome(cut=True)


def truncated(payload: Any) -> Outcome:
    """This JSON announced whole by Content-Length, but cut off halfway."""
    return Outcome(body=json.dumps(payload).encode(), truncate=True)


def html_page(status: int = 200) -> Outcome:
    """An HTML error page (a proxy's or a firewall's) where JSON belongs."""
    body = b"<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>"
    return Outcome(status=status, body=body, content_type="text/html")


def huge(size: int, *, declare_length: bool = True) -> Outcome:
    """A result image `size` bytes long, streamed so it is never held in memory."""
    return Outcome(size=size, declare_length=declare_length, content_type="image/webp")


async def truncated_answer(request: web.Request, outcome: Outcome) -> web.StreamResponse:
    """The headers and half the body of `outcome`, then the connection closed."""
    response = web.StreamResponse(
        status=outcome.status, headers={"Content-Type": outcome.content_type}
    )
    response.content_length = len(outcome.body)
    await response.prepare(request)
    await response.write(outcome.body[: len(outcome.body) // 2])
    assert request.transport is not None
    request.transport.close()
    return response


async def streamed_answer(
    request: web.Request, outcome: Outcome, *, on_sent: Callable[[int], None]
) -> web.StreamResponse:
    """`outcome.size` filler bytes, streamed; `on_sent` is told of each piece written."""
    response = web.StreamResponse(headers={"Content-Type": outcome.content_type})
    if outcome.declare_length:
        response.content_length = outcome.size
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = bytes(64 * 1024)
    sent = 0
    try:
        while sent < outcome.size:
            piece = chunk[: outcome.size - sent]
            await response.write(piece)
            sent += len(piece)
            on_sent(len(piece))
        await response.write_eof()
    except ConnectionError:
        pass  # The client hung up, as it should on a result this large.
    return response
