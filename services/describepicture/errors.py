"""DescribePicture's error objects mapped to typed errors, never showing the appId."""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

from services.describepicture.credential import PROVIDER
from services.exceptions import (
    AuthError,
    BadRequestError,
    OutOfCreditsError,
    ProviderError,
    QuotaExceededError,
    UnexpectedResponseError,
)
from services.http import HttpResponse

logger = logging.getLogger(__name__)

_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
"""What a code, field or reason must look like to be shown: an identifier, never free text."""
SENT_APP_ID: ContextVar[str] = ContextVar("describepicture_sent_app_id", default="")
"""The appId of the request this task is making, so an error that echoes it never shows it."""

_CODE_KEYWORDS: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (("CREDIT", "BALANCE", "PAYMENT"), OutOfCreditsError),
    (("PERMISSION", "UNAUTHENTICATED", "FORBIDDEN", "AUTH"), AuthError),
    (("INSUFFICIENT",), OutOfCreditsError),
    (("QUOTA", "LIMIT", "EXHAUSTED", "TOO_MANY"), QuotaExceededError),
    (("APP_ID", "APPID"), AuthError),
    (("INVALID", "REQUIRED", "BAD_REQUEST"), BadRequestError),
)
"""Error codes by keyword, first match wins; the order settles codes with two keywords.

PAYMENT_REQUIRED and CREDITS_EXHAUSTED are credits; INSUFFICIENT_PERMISSION is auth while
INSUFFICIENT_QUOTA/FUNDS are credits (a balance ran short; the document calls credits quota too);
APP_ID_QUOTA_EXCEEDED is quota; INVALID_APP_ID is auth; INVALID_REQUEST is a bad request.
"""


def _safe_token(value: object) -> str:
    """`value` if it is an identifier worth showing and holds no appId, else ""."""
    if not isinstance(value, str) or not _SAFE_TOKEN.fullmatch(value):
        return ""
    app_id = SENT_APP_ID.get()
    return "" if app_id and app_id.casefold() in value.casefold() else value


def _error_type(code: str, field: str) -> type[ProviderError] | None:
    """The error class a code means by its keywords (see _CODE_KEYWORDS), None if unknown."""
    upper = code.upper()
    found = next(
        (kind for keywords, kind in _CODE_KEYWORDS if any(k in upper for k in keywords)), None
    )
    # The appId is always sent non-empty, so a complaint about that field means it is not valid.
    if field.lower() in ("appid", "app_id") and found in (None, BadRequestError):
        return AuthError
    return found


def error_from_object(body: object, response: HttpResponse) -> ProviderError | None:
    """The typed error of a `{"error": {...}}` body, or None if the body holds none.

    A code no keyword knows gives None at an HTTP error status, so the status decides, and
    UnexpectedResponseError on a success status. The message names the code and
    details.field/reason, never the provider's free text: it could echo the appId.
    """
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    details = error.get("details")
    details = details if isinstance(details, dict) else {}
    code, field = error.get("code"), details.get("field")
    kind = _error_type(
        code if isinstance(code, str) else "", field if isinstance(field, str) else ""
    )
    shown_code, shown_field = _safe_token(code), _safe_token(field)
    shown_reason = _safe_token(details.get("reason"))
    if kind is None:
        logger.warning("%s unknown error code %r at HTTP %d", PROVIDER, shown_code, response.status)
        if response.status >= 400:
            return None
        kind = UnexpectedResponseError
    text = f"{shown_code or 'error'} at HTTP {response.status}"
    if shown_field or shown_reason:
        text += f" (field {shown_field or '?'}: {shown_reason or '?'})"
    return kind(text, provider=PROVIDER, status=response.status)


def map_error(response: HttpResponse) -> ProviderError | None:
    """The HTTP layer's error mapper: a known error object, else None (the status decides)."""
    try:
        body = response.json()
    except UnexpectedResponseError:
        return None
    return error_from_object(body, response)
