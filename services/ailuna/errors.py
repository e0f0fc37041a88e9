"""AiLuna's Laravel error bodies mapped to typed errors."""

from __future__ import annotations

from services.ailuna.options import PROVIDER
from services.exceptions import (
    AuthError,
    BadRequestError,
    NotFoundError,
    OutOfCreditsError,
    ProviderError,
    RateLimitedError,
    UnexpectedResponseError,
)
from services.http import HttpResponse

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


def map_error(response: HttpResponse) -> ProviderError | None:
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
