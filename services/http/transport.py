"""One request on the wire: the shared session, a size-capped read, and what a failure means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from services.exceptions import ProviderTimeoutError, ResponseTooLargeError, UnavailableError
from services.http.response import HttpResponse

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_connect=10, sock_read=60)

_CHUNK = 64 * 1024


def describe_url(url: str) -> str:
    """A URL safe to log or show: scheme, host and path, never the query or credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def new_session(*, limit: int = 256) -> aiohttp.ClientSession:
    """The process-wide session: no cookie jar, so one user's cookies never reach another's call."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(),
        connector=aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300),
        timeout=DEFAULT_TIMEOUT,
    )


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """What a transport error means for the request that met it."""

    outcome: str
    """The observer's label."""
    sent: bool
    """The request may have reached the provider (so a paid one is never sent again)."""
    what: str
    error: type[UnavailableError]
    """Raised once no attempt is left."""


def classify_failure(e: TimeoutError | aiohttp.ClientError) -> TransportFailure:
    """Whether a transport error may have let the request through, and how to report it."""
    # A connect timeout (or a wait for a pooled connection) is a TimeoutError too, but like a
    # refused connection it means nothing was sent.
    if isinstance(e, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return TransportFailure("connect_error", False, "cannot connect", UnavailableError)
    if isinstance(e, TimeoutError):
        return TransportFailure("timeout", True, "no answer in time", ProviderTimeoutError)
    # Reset or cut off after the request went out: the provider may have acted on it.
    return TransportFailure("connection_lost", True, "connection lost", UnavailableError)


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    provider: str,
    where: str,
    params: Mapping[str, str] | None,
    json_body: Any,
    form: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    cookies: Mapping[str, str] | None,
    max_bytes: int,
    timeout: aiohttp.ClientTimeout,
) -> HttpResponse:
    """Send one request and read its whole body, refusing bodies over `max_bytes`."""
    kwargs: dict[str, Any] = {"params": params, "headers": headers, "timeout": timeout}
    if isinstance(json_body, bytes):
        kwargs["data"] = json_body
        kwargs["headers"] = {**(headers or {}), "Content-Type": "application/json"}
    elif json_body is not None:
        kwargs["json"] = json_body
    elif form is not None:
        kwargs["data"] = aiohttp.FormData(dict(form))
    if cookies:
        kwargs["cookies"] = dict(cookies)
    async with session.request(method, url, **kwargs) as r:
        if r.content_length is not None and r.content_length > max_bytes:
            raise _too_large(provider, where, max_bytes, r.content_length)
        body = bytearray()
        async for chunk in r.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(provider, where, max_bytes, None)
        return HttpResponse(
            provider=provider, status=r.status, headers=r.headers, body=bytes(body), where=where
        )


def _too_large(provider: str, where: str, limit: int, size: int | None) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{where} answered more than {limit} bytes", provider=provider, limit=limit, size=size
    )
