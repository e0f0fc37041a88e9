"""The request layer: one provider's base URL, attempts with retries, and an observer of each."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from services.exceptions import OutcomeUnknownError, RateLimitedError, UnavailableError
from services.http.response import ErrorMapper, HttpResponse, error_for_status
from services.http.retry import RetryPolicy
from services.http.transport import DEFAULT_TIMEOUT, classify_failure, send

logger = logging.getLogger(__name__)

MAX_API_BODY = 32 * 1024 * 1024
"""Largest API response read into memory; CodexAeternum answers carry base64 images."""

# 502/503/504 come from a gateway that did not hand the request on, so even a paid request
# that got one was never accepted and may be sent again.
_NOT_ACCEPTED = frozenset({429, 502, 503, 504})


class RequestObserver(Protocol):
    """Told about every attempt: the provider, how it ended ("2xx"…"5xx", "timeout",
    "connect_error", "connection_lost", "too_large") and how long it took."""

    def __call__(self, *, provider: str, outcome: str, seconds: float) -> None: ...


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
                response = await send(
                    self._session,
                    method,
                    url,
                    provider=self.provider,
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
                failure = classify_failure(e)
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
