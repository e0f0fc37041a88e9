"""What a user is told about each kind of failure: short, in their language, what to do next."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.utils.i18n import gettext as _

from bot.providers import display_name
from services.exceptions import (
    AuthError,
    BadRequestError,
    ImageTooLargeError,
    InvalidImageError,
    JobFailedError,
    NotFoundError,
    OutcomeUnknownError,
    OutOfCreditsError,
    ProviderError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    ResponseTooLargeError,
    ResultExpiredError,
    UnavailableError,
    UnexpectedResponseError,
)

ERROR_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (AuthError, "auth"),
    (OutOfCreditsError, "credits"),
    (QuotaExceededError, "quota"),
    (RateLimitedError, "rate_limited"),
    (OutcomeUnknownError, "outcome_unknown"),
    (ProviderTimeoutError, "slow"),
    (UnavailableError, "unavailable"),
    (ResultExpiredError, "not_found"),
    (JobFailedError, "job_failed"),
    (NotFoundError, "not_found"),
    (BadRequestError, "bad_request"),
    (ResponseTooLargeError, "too_large"),
    (ImageTooLargeError, "too_large"),
    (InvalidImageError, "not_an_image"),
    (UnexpectedResponseError, "bad_answer"),
)
"""Exception class → the short code stored with a failed job (first match wins)."""


def error_code(error: BaseException) -> str:
    """The short code of an error, safe to store and log."""
    for kind, code in ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "internal"


def error_text(error: BaseException) -> str:
    """The message a user sees for an error, naming the provider when there is one."""
    provider = display_name(error.provider) if isinstance(error, ProviderError) else ""
    code = error_code(error)
    if isinstance(error, QuotaExceededError) and error.reset_at is not None:
        return _("{provider}: the hourly quota is used up. It frees up at {time} UTC.").format(
            provider=provider, time=_clock(error.reset_at)
        )
    return code_text(code, provider=provider)


def code_text(code: str, *, provider: str) -> str:
    """The message for a stored error code."""
    texts = {
        "auth": _("{provider} rejected your key. Set a new one with /setkey."),
        "credits": _("{provider}: your account is out of credits. Top it up and try again."),
        "quota": _("{provider}: the usage quota is used up. Try again later."),
        "rate_limited": _("{provider} is busy right now. Try again in a minute."),
        "outcome_unknown": _(
            "{provider} did not confirm the job, and may still have taken (and charged for) it. "
            "Check your {provider} account before trying again."
        ),
        "slow": _("{provider} is too slow right now. Try again later or pick another provider."),
        "unavailable": _("{provider} is unavailable right now. Try again later."),
        "job_failed": _("{provider} could not make this image. Try another prompt."),
        "not_found": _("{provider} no longer has this result."),
        "bad_request": _("{provider} refused the request. Try rephrasing it."),
        "too_large": _("The image is too large to handle. Try a smaller one."),
        "not_an_image": _("This file is not an image I can read. Send a JPEG, PNG or WebP."),
        "bad_answer": _("{provider} sent an answer I could not read. Try again later."),
        "timeout": _("{provider} took too long, so I gave up. Try again later."),
        "blocked": _("The result could not be delivered."),
        "interrupted": _("Interrupted by a restart."),
    }
    text = texts.get(code) or _("Something went wrong on my side. Please try again.")
    return text.format(provider=provider or _("The provider"))


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M")
