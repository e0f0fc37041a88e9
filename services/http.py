"""The HTTP layer every provider client shares: timeouts, safe retries, status-to-error mapping."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from services.exceptions import (
    AuthError,
    BadRequestError,
    NotFoundError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    ResponseTooLargeError,
    UnavailableError,
    UnexpectedResponseError,
)

logger = logging.getLogger(__name__)

MAX_API_BODY = 32 * 1024 * 1024
"""Largest API response read into memory; CodexAeternum answers carry base64 images."""

_CHUNK = 64 * 1024
# 502/503/504 come from a gateway that did not hand the request on, so even a paid request
# that got one was never accepted and may be sent again.
_NOT_ACCEPTED = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait between attempts (exponential backoff, equal jitter)."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_connect=10, sock_read=60)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete response: status, headers and the whole body."""

    provider: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    where: str = field(repr=False)

    def json(self) -> Any:
        """The body parsed as JSON, or UnexpectedResponseError."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise UnexpectedResponseError(
                f"malformed JSON from {self.where} (HTTP {self.status})",
                provider=self.provider,
                status=self.status,
            ) from e

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or UnexpectedResponseError."""
        value = self.json()
        if not isinstance(value, dict):
            raise UnexpectedResponseError(
                f"expected a JSON object from {self.where}",
                provider=self.provider,
                status=self.status,
            )
        return value

    def retry_after(self) -> float | None:
        """The Retry-After header in seconds (delta or HTTP date), if present and valid."""
        return parse_retry_after(self.headers.get("Retry-After"))


class RequestObserver(Protocol):
    """Told about every attempt: the provider, how it ended ("2xx"…"5xx", "timeout",
    "connect_error", "connection_lost", "too_large") and how long it took."""

    def __call__(self, *, provider: str, outcome: str, seconds: float) -> None: ...


ErrorMapper = Callable[[HttpResponse], ProviderError | None]
"""Turns a provider's own error body into a typed error; None falls back to the status."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value, either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_for_status(response: HttpResponse) -> ProviderError:
    """The typed error a status code means when the provider's body says nothing better."""
    status, provider, where = response.status, response.provider, response.where
    message = f"{where} answered HTTP {status}"
    if status in (401, 403):
        return AuthError(message, provider=provider, status=status)
    if status == 402:
        return OutOfCreditsError(message, provider=provider, status=status)
    if status == 404:
        return NotFoundError(message, provider=provider, status=status)
    if status == 429:
        return RateLimitedError(
            message, provider=provider, status=status, retry_after=response.retry_after()
        )
    if status in (400, 405, 409, 413, 415, 422):
        return BadRequestError(message, provider=provider, status=status)
    if status >= 500:
        return UnavailableError(message, provider=provider, status=status)
    return UnexpectedResponseError(message, provider=provider, status=status)


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
class _Failure:
    """What a transport error means for the request that met it."""

    outcome: str
    """The observer's label."""
    sent: bool
    """The request may have reached the provider (so a paid one is never sent again)."""
    what: str
    error: type[UnavailableError]
    """Raised once no attempt is left."""


def _failure(e: TimeoutError | aiohttp.ClientError) -> _Failure:
    # A connect timeout (or a wait for a pooled connection) is a TimeoutError too, but like a
    # refused connection it means nothing was sent.
    if isinstance(e, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return _Failure("connect_error", False, "cannot connect", UnavailableError)
    if isinstance(e, TimeoutError):
        return _Failure("timeout", True, "no answer in time", ProviderTimeoutError)
    # Reset or cut off after the request went out: the provider may have acted on it.
    return _Failure("connection_lost", True, "connection lost", UnavailableError)


class HttpClient:
    """Sends requests for one provider with its base URL, timeouts and retry policy."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        provider: str,
        base_url: str,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        error_mapper: ErrorMapper | None = None,
        observer: RequestObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._error_mapper = error_mapper
        self._observer = observer
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def url(self, path: str) -> str:
        """The absolute URL of a path under the provider's base URL."""
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        safe: bool,
        accept: Collection[int] = (200, 201, 202, 204),
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        max_bytes: int = MAX_API_BODY,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> HttpResponse:
        """Send a request to `path`; retry only what `safe` (idempotent) or unaccepted allows.

        `json_body` is a value to send as JSON, or bytes already serialized (a large body built
        once, and sent again as is if a retry is allowed).

        Statuses in `accept` are returned; any other status becomes a typed ProviderError.
        """
        return await self._request(
            method,
            path,
            safe=safe,
            accept=accept,
            params=params,
            json_body=json_body,
            form=form,
            headers=headers,
            cookies=cookies,
            max_bytes=max_bytes,
            timeout=timeout,
            error_mapper=self._error_mapper,
        )

    async def download(
        self, url: str, *, max_bytes: int, headers: Mapping[str, str] | None = None
    ) -> bytes:
        """GET an absolute URL (a result image) with retries; bodies over max_bytes are refused.

        Errors are mapped by status only: a storage host's error bodies are not the provider's.
        """
        response = await self._request(
            "GET",
            url,
            safe=True,
            accept=(200,),
            params=None,
            json_body=None,
            form=None,
            headers=headers,
            cookies=None,
            max_bytes=max_bytes,
            timeout=None,
            error_mapper=None,
        )
        return response.body

    async def _request(
        self,
        method: str,
        path: str,
        *,
        safe: bool,
        accept: Collection[int],
        params: Mapping[str, str] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        max_bytes: int,
        timeout: aiohttp.ClientTimeout | None,
        error_mapper: ErrorMapper | None,
    ) -> HttpResponse:
        url = path if path.startswith(("http://", "https://")) else self.url(path)
        where = f"{method} {urlsplit(url).path}"
        attempts = max(1, self._retry.attempts)
        for attempt in range(attempts):
            last_attempt = attempt == attempts - 1
            started = time.perf_counter()
            try:
                response = await self._send(
                    method,
                    url,
                    where=where,
                    params=params,
                    json_body=json_body,
                    form=form,
                    headers=headers,
                    cookies=cookies,
                    max_bytes=max_bytes,
                    timeout=timeout or self._timeout,
                )
            except (TimeoutError, aiohttp.ClientError) as e:
                failure = _failure(e)
                self._failed(where, failure.outcome, attempt, started)
                if failure.sent and not safe:
                    raise OutcomeUnknownError(
                        f"{where}: {failure.what}; the request may have been accepted",
                        provider=self.provider,
                    ) from e
                if last_attempt:
                    raise failure.error(f"{where}: {failure.what}", provider=self.provider) from e
                await self._sleep(self._retry.delay(attempt, self._rng))
                continue

            seconds = time.perf_counter() - started
            logger.debug(
                "%s %s -> HTTP %d in %.0f ms (attempt %d)",
                self.provider,
                where,
                response.status,
                seconds * 1000,
                attempt + 1,
            )
            if self._observer is not None:
                self._observer(
                    provider=self.provider, outcome=f"{response.status // 100}xx", seconds=seconds
                )
            if response.status in accept:
                return response
            error = (error_mapper and error_mapper(response)) or error_for_status(response)
            # A 429 whose body says "quota used up" is final, so the mapped type decides too.
            retryable = isinstance(error, RateLimitedError | UnavailableError) and (
                response.status in _NOT_ACCEPTED or (safe and response.status >= 500)
            )
            if not retryable or last_attempt:
                raise error
            wait = response.retry_after() if response.status in (429, 503) else None
            if wait is not None and wait > self._retry.max_retry_after:
                raise error  # Waiting that long belongs to the caller, not inside one call.
            await self._sleep(wait if wait is not None else self._retry.delay(attempt, self._rng))
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _failed(self, where: str, outcome: str, attempt: int, started: float) -> None:
        logger.info("%s %s failed: %s (attempt %d)", self.provider, where, outcome, attempt + 1)
        if self._observer is not None:
            self._observer(
                provider=self.provider, outcome=outcome, seconds=time.perf_counter() - started
            )

    async def _send(
        self,
        method: str,
        url: str,
        *,
        where: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        max_bytes: int,
        timeout: aiohttp.ClientTimeout,
    ) -> HttpResponse:
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
        async with self._session.request(method, url, **kwargs) as r:
            if r.content_length is not None and r.content_length > max_bytes:
                raise self._too_large(where, max_bytes, r.content_length)
            body = bytearray()
            async for chunk in r.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise self._too_large(where, max_bytes, None)
            return HttpResponse(
                provider=self.provider,
                status=r.status,
                headers=r.headers,
                body=bytes(body),
                where=where,
            )

    def _too_large(self, where: str, limit: int, size: int | None) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"{where} answered more than {limit} bytes",
            provider=self.provider,
            limit=limit,
            size=size,
        )
