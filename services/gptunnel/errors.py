"""GPTunnel's refusals, named by the wording of its error bodies, mapped to typed errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.exceptions import (
    AuthError,
    NotFoundError,
    OutOfCreditsError,
    ProviderError,
    UnexpectedResponseError,
)
from services.gptunnel.credential import PROVIDER
from services.http import HttpResponse

# The document shows no error bodies, so the provider's wording (in `error`, `message`, ...) is
# matched against these words, first match wins; English and Russian, as the service is Russian.
# A bare "insufficient"/"недостаточно" is not enough: "insufficient permissions" is no balance.
_REFUSALS: tuple[tuple[tuple[str, ...], type[ProviderError], str], ...] = (
    (
        ("balance", "funds", "credits", "баланс", "средств"),
        OutOfCreditsError,
        "out of balance",
    ),
    (
        ("api key", "api_key", "apikey", "unauthori", "ключ", "авториз"),
        AuthError,
        "API key rejected",
    ),
    (("not found", "не найден"), NotFoundError, "task not found"),
)


def map_error(response: HttpResponse) -> ProviderError | None:
    """A refusal named by the body of a 4xx answer; None leaves the status to decide.

    429 stays a rate limit whatever its body says, so the HTTP layer's retry rules still apply.
    """
    if not 400 <= response.status < 500 or response.status == 429:
        return None
    try:
        payload = response.json()
    except UnexpectedResponseError:
        return None
    return refusal(response, payload) if isinstance(payload, dict) else None


def refusal(response: HttpResponse, payload: Mapping[str, Any]) -> ProviderError | None:
    """The typed error the provider's wording names, if it names one we know."""
    text = _provider_text(payload)
    for words, error_type, what in _REFUSALS:
        if any(word in text for word in words):
            return error_type(
                f"{response.where} refused the request: {what} ({detail(response, payload)})",
                provider=PROVIDER,
                status=response.status,
            )
    return None


def _provider_text(payload: Mapping[str, Any]) -> str:
    # Used only to classify: never put in a message or a log, as it could echo the key back.
    found: list[str] = []
    for key in ("error", "message", "msg", "detail"):
        value = payload.get(key)
        if isinstance(value, Mapping):
            value = value.get("message")
        if isinstance(value, str):
            found.append(value)
    return " ".join(found).casefold()


def detail(response: HttpResponse, payload: Mapping[str, Any]) -> str:
    """The status and the provider's `code`, for a message."""
    code = payload.get("code")
    if type(code) is int:
        return f"HTTP {response.status}, code {code}"
    return f"HTTP {response.status}"
