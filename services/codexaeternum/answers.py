"""Reading CodexAeternum's answers: credit balances, base64 images, out-of-credits wording."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from services.codexaeternum.credential import PROVIDER
from services.exceptions import OutOfCreditsError, ProviderError, UnexpectedResponseError
from services.http import HttpResponse

CREDITS_KEYWORDS = ("credit", "saldo", "funds", "fondos")
"""Words that make an error body mean out of credits, matched case- and accent-insensitively.

"credit" also matches "credits", "créditos"; "insufficient" alone is not one: it may be about
permissions.
"""

_ERROR_FIELDS = ("error", "detail", "message")
_DATA_URI_PREFIX = re.compile(r"^data:image/[\w.+-]+;base64,", re.IGNORECASE)


def _error_text(body: Mapping[str, Any]) -> str:
    """The error fields of a body, casefolded and without accents, for keyword matching."""
    text = " ".join(str(body[name]) for name in _ERROR_FIELDS if body.get(name))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def credits_error(response: HttpResponse) -> OutOfCreditsError | None:
    """OutOfCreditsError when the body's error/detail/message speaks of credits, else None."""
    try:
        body = response.json()
    except UnexpectedResponseError:
        return None
    if not isinstance(body, dict):
        return None
    text = _error_text(body)
    if not any(word in text for word in CREDITS_KEYWORDS):
        return None
    # The provider's own words are left out: they could echo a token back.
    return OutOfCreditsError(
        f"{response.where}: out of credits (HTTP {response.status})",
        provider=PROVIDER,
        status=response.status,
    )


def missing(response: HttpResponse, what: str) -> ProviderError:
    """The error for a success answer without `what`: out of credits if it says so."""
    return credits_error(response) or UnexpectedResponseError(
        f"{response.where} answered without {what}", provider=PROVIDER, status=response.status
    )


def credits_of(body: Mapping[str, Any]) -> int | None:
    """The `credits` balance an answer reports, if it reports one."""
    value = body.get("credits")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode_image(value: str, where: str) -> bytes:
    """The bytes of a base64 image value, with or without a data: URI prefix."""
    text = "".join(_DATA_URI_PREFIX.sub("", value.strip(), count=1).split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as e:
        raise UnexpectedResponseError(
            f"{where}: the result is not valid base64", provider=PROVIDER
        ) from e
