"""The exception hierarchy shared by every provider client and the image utilities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class ServiceError(Exception):
    """Base of every error raised by `services`; its message never holds a secret."""


class ProviderError(ServiceError):
    """A provider call failed; `provider` names the provider, `status` the HTTP status if any."""

    def __init__(self, message: str, *, provider: str, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class AuthError(ProviderError):
    """The credential was rejected (wrong, revoked or expired key)."""


class OutOfCreditsError(ProviderError):
    """The account has no credits or balance left for this request."""


class QuotaExceededError(ProviderError):
    """A usage quota is used up until `reset_at` (None when the provider does not say)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        reset_at: datetime | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.reset_at = reset_at


class RateLimitedError(ProviderError):
    """The provider asked to slow down; `retry_after` is in seconds when it said so."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class BadRequestError(ProviderError):
    """The provider refused the request as invalid (a prompt it rejects, a missing field)."""


class NotFoundError(ProviderError):
    """The resource (an image, a task) does not exist for this credential."""


class JobFailedError(ProviderError):
    """The provider accepted a job and then reported that it failed."""


class ResultExpiredError(JobFailedError):
    """The job finished, but the link to its result no longer serves it (expired or removed)."""


class UnavailableError(ProviderError):
    """The provider could not be reached or answered with a server error."""


class ProviderTimeoutError(UnavailableError):
    """The provider did not answer in time."""


class OutcomeUnknownError(ProviderTimeoutError):
    """A paid request (create, generate, store) may have been accepted: never re-send it."""


class UnexpectedResponseError(ProviderError):
    """The provider answered with something its contract does not allow (malformed JSON, shape)."""


class ResponseTooLargeError(ProviderError):
    """A response or result image is larger than `limit` bytes, so it was not read to the end."""

    def __init__(self, message: str, *, provider: str, limit: int, size: int | None = None) -> None:
        super().__init__(message, provider=provider)
        self.limit = limit
        self.size = size


class InvalidOptionError(ServiceError):
    """An option value is not one the provider accepts; raised before any request is made."""

    def __init__(self, *, provider: str, option: str, value: str, allowed: Sequence[str]) -> None:
        shown = ", ".join(allowed) if allowed else "none"
        super().__init__(f"{provider}: invalid value for {option!r}; valid values: {shown}")
        self.provider = provider
        self.option = option
        self.value = value
        self.allowed = tuple(allowed)


class ImageError(ServiceError):
    """Base of image problems found by the image utilities."""


class InvalidImageError(ImageError):
    """The bytes are not an image of a supported type, or are corrupted."""


class ImageTooLargeError(ImageError):
    """The image cannot be brought under the byte limit it must meet."""

    def __init__(self, message: str, *, limit: int, size: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size
