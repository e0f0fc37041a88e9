"""A complete HTTP answer and the typed error its status means."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.exceptions import (
    AuthError,
    BadRequestError,
    NotFoundError,
    OutOfCreditsError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UnexpectedResponseError,
)
from services.http.retry import parse_retry_after


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


ErrorMapper = Callable[[HttpResponse], ProviderError | None]
"""Turns a provider's own error body into a typed error; None falls back to the status."""


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
