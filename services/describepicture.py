"""DescribePicture: questions about a photo in an AES-256-GCM envelope, 100 per hour per appId."""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import hashlib
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import aiohttp
from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes

from services.base import Credential, Description, ImageDescriber, SingleSecretCredential, Turn
from services.exceptions import (
    AuthError,
    BadRequestError,
    OutOfCreditsError,
    ProviderError,
    QuotaExceededError,
    UnexpectedResponseError,
)
from services.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    HttpResponse,
    RequestObserver,
    RetryPolicy,
)
from services.images import fit_under

logger = logging.getLogger(__name__)

PROVIDER = "describepicture"
DEFAULT_URL = "https://us-central1-describepicture.cloudfunctions.net/describe_picture_api"
PUBLISHED_KEY_HEX = "690c9d8f65f0d8a8572f1c29e9a30b1d67326281f395b3b649f3bb0afbf19d4b"
"""The request encryption key the provider's document publishes for every client."""

HOURLY_LIMIT = 100
"""Requests per hour per appId, as the document states."""

MAX_IMAGE_BYTES = 5_000_000
"""Largest image sent: base64 twice over (image, then envelope) makes the body ~1.78x that, which
stays under the 10 MB request limit of Cloud Functions."""

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
_MAX_ANSWER_BYTES = 1024 * 1024
_ROLES = frozenset({"user", "model"})
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
"""What a code, field or reason must look like to be shown: an identifier, never free text."""
_SENT_APP_ID: ContextVar[str] = ContextVar("describepicture_sent_app_id", default="")
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


class DescribePictureCredential(SingleSecretCredential):
    """A DescribePicture appId from the provider's API dashboard."""

    provider: ClassVar[str] = PROVIDER
    fields: ClassVar[tuple[str, ...]] = ("app_id",)
    __slots__ = ()


def encrypt_envelope(payload: Mapping[str, Any], key: bytes) -> dict[str, str]:
    """The body to POST: `payload` as JSON under AES-256-GCM with a fresh random nonce."""
    nonce = get_random_bytes(NONCE_BYTES)
    cipher = AES.new(_checked_key(key), AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    ciphertext, tag = cipher.encrypt_and_digest(json.dumps(payload).encode())
    return {
        "iv": base64.b64encode(nonce).decode("ascii"),
        "encryptedData": base64.b64encode(ciphertext + tag).decode("ascii"),
    }


def decrypt_envelope(envelope: Mapping[str, str], key: bytes) -> dict[str, Any]:
    """The JSON object in an envelope; ValueError if malformed, tampered with or of another key."""
    try:
        nonce = base64.b64decode(envelope["iv"], validate=True)
        sealed = base64.b64decode(envelope["encryptedData"], validate=True)
    except (KeyError, TypeError, binascii.Error) as e:
        raise ValueError("not an envelope of base64 iv and encryptedData") from e
    if len(nonce) != NONCE_BYTES or len(sealed) < TAG_BYTES:
        raise ValueError("the nonce or the tag has the wrong length")
    cipher = AES.new(_checked_key(key), AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
    plaintext = cipher.decrypt_and_verify(sealed[:-TAG_BYTES], sealed[-TAG_BYTES:])
    payload = json.loads(plaintext)
    if not isinstance(payload, dict):
        raise ValueError("the envelope does not hold a JSON object")
    return payload


def _checked_key(key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError(f"the encryption key must be {KEY_BYTES} bytes (AES-256)")
    return key


class QuotaStore(Protocol):
    """Where request times are counted per key; a database backs it so counts survive restarts."""

    async def try_acquire(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """Atomically record a hit at `now` if fewer than `limit` are in (now-window, now]: None.

        Otherwise record nothing and return the epoch time a slot frees (when the hit that
        must leave for one to free leaves the window).
        """

    async def next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """When a slot frees if `limit` hits are in the window, else None; records nothing."""

    async def used(self, key: str, *, now: float, window: float) -> int:
        """How many hits are in (now-window, now]."""


class MemoryQuotaStore:
    """A QuotaStore in process memory, lost on restart; hits kept sorted and pruned per key."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    async def try_acquire(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """Record a hit at `now` unless `limit` are in the window; else when a slot frees."""
        # No await between the check and the insert: atomic within the event loop.
        free_at = self._next_free(key, now=now, window=window, limit=limit)
        if free_at is None:
            # Sorted insert: a clock stepped back must not leave an old hit behind a newer one.
            bisect.insort(self._hits.setdefault(key, deque()), now)
        return free_at

    async def next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        """The epoch time a slot frees if `limit` hits are in the window, else None."""
        return self._next_free(key, now=now, window=window, limit=limit)

    async def used(self, key: str, *, now: float, window: float) -> int:
        """How many hits are in (now-window, now]."""
        return len(self._pruned(key, now=now, window=window))

    def _next_free(self, key: str, *, now: float, window: float, limit: int) -> float | None:
        if limit < 1:
            raise ValueError("a quota limit must be at least 1")
        hits = self._pruned(key, now=now, window=window)
        if len(hits) < limit:
            return None
        # With more hits than the limit (it was lowered), several must leave before one frees.
        return hits[len(hits) - limit] + window

    def _pruned(self, key: str, *, now: float, window: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits


class HourlyQuota:
    """The provider's per-appId hourly quota counted locally, so the 101st call is never sent.

    A sliding window: the provider does not say whether its hour is fixed or rolling, and a
    rolling one never lets more than `limit` through in any `window` seconds.
    """

    def __init__(
        self,
        store: QuotaStore,
        *,
        limit: int = HOURLY_LIMIT,
        window: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("the quota needs a limit of at least 1 and a positive window")
        self.store = store
        self.limit = limit
        self.window = window
        self._clock = clock

    async def acquire(self, app_id: str) -> None:
        """Count one request for `app_id`, or raise QuotaExceededError with when a slot frees."""
        free_at = await self.store.try_acquire(
            _quota_key(app_id), now=self._clock(), window=self.window, limit=self.limit
        )
        if free_at is None:
            return
        reset_at = datetime.fromtimestamp(free_at, UTC)
        logger.info("%s local quota of %d per window used up", PROVIDER, self.limit)
        raise QuotaExceededError(
            f"{self.limit} requests per hour used up; the next one is allowed at "
            f"{reset_at:%Y-%m-%d %H:%M:%S} UTC",
            provider=PROVIDER,
            reset_at=reset_at,
        )

    async def used(self, app_id: str) -> int:
        """Requests counted for `app_id` in the current window."""
        return await self.store.used(_quota_key(app_id), now=self._clock(), window=self.window)

    async def reset_at(self, app_id: str) -> datetime | None:
        """When a slot frees for `app_id` if the local count is full, else None."""
        free_at = await self.store.next_free(
            _quota_key(app_id), now=self._clock(), window=self.window, limit=self.limit
        )
        return None if free_at is None else datetime.fromtimestamp(free_at, UTC)


def _quota_key(app_id: str) -> str:
    """The store key of an appId: a hash, so the database never holds the appId in clear."""
    return hashlib.sha256(app_id.encode()).hexdigest()


def _safe_token(value: object) -> str:
    """`value` if it is an identifier worth showing and holds no appId, else ""."""
    if not isinstance(value, str) or not _SAFE_TOKEN.fullmatch(value):
        return ""
    app_id = _SENT_APP_ID.get()
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


def _error_from_object(body: object, response: HttpResponse) -> ProviderError | None:
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


def _map_error(response: HttpResponse) -> ProviderError | None:
    """The HTTP layer's error mapper: a known error object, else None (the status decides)."""
    try:
        body = response.json()
    except UnexpectedResponseError:
        return None
    return _error_from_object(body, response)


def _checked_conversation(conversation: Sequence[Turn]) -> list[dict[str, str]]:
    """The `prompt` array, or BadRequestError for a conversation the provider must not get."""
    if not conversation:
        raise BadRequestError("the conversation is empty", provider=PROVIDER)
    for turn in conversation:
        if turn.role not in _ROLES:
            raise BadRequestError("a turn's role is neither user nor model", provider=PROVIDER)
        if not turn.text.strip():
            raise BadRequestError("a turn of the conversation is empty", provider=PROVIDER)
    if conversation[-1].role != "user":
        raise BadRequestError("the conversation must end with a user turn", provider=PROVIDER)
    return [{"role": turn.role, "text": turn.text} for turn in conversation]


@dataclass(frozen=True, slots=True)
class _Sealed:
    body: bytes
    """The envelope, serialized."""
    mime_type: str
    image_bytes: int
    resized: bool


def _sealed_request(
    image: bytes, *, prompt: list[dict[str, str]], app_id: str, key: bytes, max_image_bytes: int
) -> _Sealed:
    """The request body for `image` and `prompt`, built with no copy outliving the call."""
    fitted = fit_under(image, max_image_bytes)
    payload = {
        # Never a Telegram file URL: it carries the bot token. The provider prefers
        # imageUrl when both are set, so it is always empty.
        "imageUrl": "",
        "imageBase64": base64.b64encode(fitted.data).decode("ascii"),
        "prompt": prompt,
        "mimeType": fitted.mime_type,
        "appId": app_id,
    }
    return _Sealed(
        body=json.dumps(encrypt_envelope(payload, key)).encode("ascii"),
        mime_type=fitted.mime_type,
        image_bytes=len(fitted.data),
        resized=fitted.shrunk,
    )


class DescribePictureClient(ImageDescriber[DescribePictureCredential]):
    """DescribePicture's one encrypted call: describe a photo within a conversation."""

    name: ClassVar[str] = PROVIDER
    credential_type: ClassVar[type[Credential]] = DescribePictureCredential

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str = DEFAULT_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        observer: RequestObserver | None = None,
        encryption_key: bytes = bytes.fromhex(PUBLISHED_KEY_HEX),
        quota: HourlyQuota | None = None,
        max_image_bytes: int = MAX_IMAGE_BYTES,
    ) -> None:
        self._http = HttpClient(
            session,
            provider=PROVIDER,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            observer=observer,
            error_mapper=_map_error,
        )
        self._key = _checked_key(encryption_key)
        self._quota = quota
        self._max_image_bytes = max_image_bytes

    @property
    def quota(self) -> HourlyQuota | None:
        """The local hourly quota requests are counted against, if any."""
        return self._quota

    async def describe(
        self, credential: DescribePictureCredential, *, image: bytes, conversation: Sequence[Turn]
    ) -> Description:
        """Answer the conversation's last user turn about `image`; paid, so never re-sent."""
        prompt = _checked_conversation(conversation)
        size = len(image)
        sealed = await asyncio.to_thread(
            _sealed_request,
            image,
            prompt=prompt,
            app_id=credential.secret,
            key=self._key,
            max_image_bytes=self._max_image_bytes,
        )
        # The sealed body is the one copy kept while the provider works (and re-sent if allowed).
        del image
        if sealed.resized:
            logger.info("%s image brought from %d to %d bytes", PROVIDER, size, sealed.image_bytes)
        if self._quota is not None:
            await self._quota.acquire(credential.secret)
        logger.info(
            "%s describe: %s image of %d bytes, %d turns",
            PROVIDER,
            sealed.mime_type,
            sealed.image_bytes,
            len(prompt),
        )
        sent = _SENT_APP_ID.set(credential.secret)
        try:
            response = await self._http.request(
                "POST",
                self._http.base_url,  # The function's URL is the endpoint itself.
                safe=False,
                accept=(200,),
                json_body=sealed.body,
                max_bytes=_MAX_ANSWER_BYTES,
            )
            body = response.json_object()
            if body.get("error") is not None:
                raise _error_from_object(body, response) or UnexpectedResponseError(
                    f"{response.where} answered an error that is not an error object",
                    provider=PROVIDER,
                    status=response.status,
                )
        except QuotaExceededError as e:
            if self._quota is not None and e.reset_at is None:
                e.reset_at = await self._quota.reset_at(credential.secret)
            raise
        finally:
            _SENT_APP_ID.reset(sent)
        answer = body.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            raise UnexpectedResponseError(
                f"{response.where} answered without an answer", provider=PROVIDER
            )
        credits = body.get("lastCredits")
        if not isinstance(credits, int) or isinstance(credits, bool):
            credits = None
        return Description(text=answer.strip(), credits=credits, image_resized=sealed.resized)
