"""CodexAeternum: image generation and description with an email + secret token credential."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import re
import unicodedata
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, Self, TypeVar

import aiohttp

from services.base import (
    Credential,
    CredentialFormatError,
    Description,
    GeneratedImage,
    ImageDescriber,
    ImageGenerator,
    OptionSpec,
    Pending,
    Submission,
    Turn,
    generated_image,
    mask,
)
from services.exceptions import (
    AuthError,
    BadRequestError,
    OutOfCreditsError,
    ProviderError,
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

PROVIDER = "codexaeternum"
DEFAULT_BASE_URL = "https://codexaeternum.com"
MAX_DESCRIBE_IMAGE_BYTES = 5_000_000
"""The document's "<= 5.0 MB", read as decoded bytes in the stricter decimal sense."""

EXCHANGE_PATH = "/login/tokenexchange/"
IMAGE_PATH = "/api/dev/image/"
DESCRIBE_PATH = "/describe_image/"

CREDITS_KEYWORDS = ("credit", "saldo", "funds", "fondos")
"""Words that make an error body mean out of credits, matched case- and accent-insensitively.

"credit" also matches "credits", "créditos"; "insufficient" alone is not one: it may be about
permissions.
"""

_ERROR_FIELDS = ("error", "detail", "message")
_DATA_URI_PREFIX = re.compile(r"^data:image/[\w.+-]+;base64,", re.IGNORECASE)
_EXCHANGE_REJECTED = (400, 401, 403)
"""Statuses with which the token exchange refuses an email + secret token."""

T = TypeVar("T")


class CodexAeternumCredential(Credential):
    """A CodexAeternum account: the login email and the secret token from the profile page."""

    provider: ClassVar[str] = PROVIDER
    fields: ClassVar[tuple[str, ...]] = ("email", "secret")
    __slots__ = ("email", "secret")

    def __init__(self, email: str, secret: str) -> None:
        self.email = email
        self.secret = secret

    @classmethod
    def from_parts(cls, parts: Sequence[str]) -> Self:
        if len(parts) != 2:
            raise CredentialFormatError(f"{cls.provider} needs an email and a secret token")
        email, secret = parts
        if not _plausible_email(email):
            raise CredentialFormatError(f"{cls.provider}: the email does not look valid")
        if not secret or any(c.isspace() for c in secret):
            raise CredentialFormatError(f"{cls.provider}: the secret token must have no spaces")
        return cls(email, secret)

    def to_parts(self) -> tuple[str, ...]:
        return (self.email, self.secret)

    def masked(self) -> str:
        return f"{self.email} {mask(self.secret)}"

    def cache_key(self) -> str:
        """The session-token cache key: a hash, so the store never learns the secret."""
        return hashlib.sha256(f"{self.email}\0{self.secret}".encode()).hexdigest()


class SessionTokenStore(Protocol):
    """Where session tokens are cached between calls, keyed by `cache_key()`."""

    async def get(self, key: str) -> str | None:
        """The cached token, or None."""

    async def set(self, key: str, token: str) -> None:
        """Cache a token, replacing any previous one."""

    async def delete(self, key: str) -> None:
        """Forget a token; no error if there is none."""


class MemorySessionTokenStore:
    """A SessionTokenStore in process memory, lost on restart."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        """The cached token, or None."""
        return self._tokens.get(key)

    async def set(self, key: str, token: str) -> None:
        """Cache a token, replacing any previous one."""
        self._tokens[key] = token

    async def delete(self, key: str) -> None:
        """Forget a token; no error if there is none."""
        self._tokens.pop(key, None)


def _plausible_email(email: str) -> bool:
    """One "@" with text before it, a dot inside the domain, no spaces."""
    local, _, domain = email.partition("@")
    return (
        bool(local)
        and "@" not in domain
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and not any(c.isspace() for c in email)
    )


def _error_text(body: Mapping[str, Any]) -> str:
    """The error fields of a body, casefolded and without accents, for keyword matching."""
    text = " ".join(str(body[name]) for name in _ERROR_FIELDS if body.get(name))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _credits_error(response: HttpResponse) -> OutOfCreditsError | None:
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


def _missing(response: HttpResponse, what: str) -> ProviderError:
    """The error for a success answer without `what`: out of credits if it says so."""
    return _credits_error(response) or UnexpectedResponseError(
        f"{response.where} answered without {what}", provider=PROVIDER, status=response.status
    )


def _credits(body: Mapping[str, Any]) -> int | None:
    value = body.get("credits")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _decode_image(value: str, where: str) -> bytes:
    """The bytes of a base64 image value, with or without a data: URI prefix."""
    text = "".join(_DATA_URI_PREFIX.sub("", value.strip(), count=1).split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as e:
        raise UnexpectedResponseError(
            f"{where}: the result is not valid base64", provider=PROVIDER
        ) from e


class CodexAeternumClient(
    ImageGenerator[CodexAeternumCredential], ImageDescriber[CodexAeternumCredential]
):
    """CodexAeternum's developer API: token exchange, generate + fetch, describe."""

    name: ClassVar[str] = PROVIDER
    credential_type: ClassVar[type[Credential]] = CodexAeternumCredential
    options: ClassVar[tuple[OptionSpec, ...]] = ()

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        observer: RequestObserver | None = None,
        token_store: SessionTokenStore | None = None,
    ) -> None:
        self._http = HttpClient(
            session,
            provider=PROVIDER,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            observer=observer,
            error_mapper=_credits_error,
        )
        self._tokens: SessionTokenStore = token_store or MemorySessionTokenStore()
        # One lock per credential while someone uses it, so concurrent calls exchange once.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def exchange_token(self, credential: CodexAeternumCredential) -> str:
        """Exchange the credential for a new session token now, cache it and return it."""
        key = credential.cache_key()
        async with self._lock(key):
            token = await self._exchange(credential)
            await self._tokens.set(key, token)
            return token

    async def submit(
        self, credential: CodexAeternumCredential, *, prompt: str, options: Mapping[str, str]
    ) -> Submission:
        """Start a paid generation of `prompt`; never re-sent after a timeout."""
        self.validate_options(options)
        if not prompt.strip():
            raise BadRequestError("the prompt is empty", provider=PROVIDER)

        async def call(token: str) -> HttpResponse:
            return await self._http.request(
                "POST",
                IMAGE_PATH,
                safe=False,
                accept=(200, 201, 202),
                form={"session_token": token, "prompt": prompt},
                cookies={"session_token": token},
            )

        response = await self._authenticated(credential, call)
        body = response.json_object()
        task_id = body.get("task_id")
        if isinstance(task_id, int) and not isinstance(task_id, bool):
            task_id = str(task_id)
        if not isinstance(task_id, str) or not task_id:
            raise _missing(response, "a task_id")
        logger.info("%s generation accepted: task %s", PROVIDER, task_id)
        return Submission(task_id=task_id, credits=_credits(body))

    async def poll(
        self, credential: CodexAeternumCredential, *, task_id: str
    ) -> Pending | GeneratedImage:
        """One fetch of the job's result: Pending until its base64 image is there."""

        async def call(token: str) -> HttpResponse:
            # 404 is how the provider may say "not there yet"; the job deadline bounds it.
            return await self._http.request(
                "GET",
                IMAGE_PATH,
                safe=True,
                accept=(200, 202, 404),
                params={"task_id": task_id},
                headers={"Session-Token": token},
            )

        response = await self._authenticated(credential, call)
        if response.status != 200:
            return Pending()
        body = response.json_object()
        value = body.get(task_id)
        if value is None or value == "":
            return Pending()
        if not isinstance(value, str):
            raise UnexpectedResponseError(
                f"{response.where}: the result is not a base64 string", provider=PROVIDER
            )
        image = generated_image(
            _decode_image(value, response.where),
            provider=PROVIDER,
            where=f"{response.where}: the result",
            credits=_credits(body),
        )
        logger.info(
            "%s task %s done: %s, %d bytes", PROVIDER, task_id, image.mime_type, len(image.data)
        )
        return image

    async def describe(
        self, credential: CodexAeternumCredential, *, image: bytes, conversation: Sequence[Turn]
    ) -> Description:
        """Answer the last user turn about `image`; the provider keeps no conversation."""
        if not conversation or conversation[-1].role != "user":
            raise BadRequestError("the conversation must end with a user turn", provider=PROVIDER)
        question = conversation[-1].text
        if not question.strip():
            raise BadRequestError("the question is empty", provider=PROVIDER)
        fitted = await asyncio.to_thread(fit_under, image, MAX_DESCRIBE_IMAGE_BYTES)
        if fitted.changed:
            logger.info(
                "%s describe image brought from %d to %d bytes",
                PROVIDER,
                len(image),
                len(fitted.data),
            )
        image_base64 = base64.b64encode(fitted.data).decode("ascii")

        async def call(token: str) -> HttpResponse:
            return await self._http.request(
                "POST",
                DESCRIBE_PATH,
                safe=False,
                accept=(200, 201),
                json_body={"session_token": token, "promp": question, "image_base64": image_base64},
                cookies={"session_token": token},
            )

        response = await self._authenticated(credential, call)
        body = response.json_object()
        messages = body.get("description")
        if not isinstance(messages, list):
            raise _missing(response, "a description")
        # The first element is the image sent back; the answer is in the messages after it.
        answers = [
            m["content"].strip()
            for m in messages[1:]
            if isinstance(m, dict)
            and m.get("role") != "user"
            and isinstance(m.get("content"), str)
            and m["content"].strip()
        ]
        if not answers:
            raise UnexpectedResponseError(
                f"{response.where}: the description has no answer", provider=PROVIDER
            )
        return Description(
            text="\n\n".join(answers),
            credits=_credits(body),
            # A format conversion alone (a small GIF) is not worth telling the user about.
            image_resized=fitted.shrunk,
        )

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _authenticated(
        self,
        credential: CodexAeternumCredential,
        call: Callable[[str], Awaitable[T]],
    ) -> T:
        """`call` with the session token; on 401/403 exchange again once and call again once."""
        token = await self._session_token(credential)
        try:
            return await call(token)
        except AuthError as e:
            # A 401/403 means the request was refused, so even a paid call may be sent again.
            logger.info("%s session token rejected (HTTP %d); exchanging again", PROVIDER, e.status)
        token = await self._session_token(credential, stale=token)
        return await call(token)

    async def _session_token(
        self, credential: CodexAeternumCredential, *, stale: str | None = None
    ) -> str:
        """The cached token, or a new one; `stale` is a token just rejected, never returned."""
        key = credential.cache_key()
        async with self._lock(key):
            token = await self._tokens.get(key)
            if token is not None and token != stale:
                # Either never rejected, or another call already exchanged it again.
                return token
            if token is not None:
                await self._tokens.delete(key)
            token = await self._exchange(credential)
            await self._tokens.set(key, token)
            return token

    async def _exchange(self, credential: CodexAeternumCredential) -> str:
        response = await self._http.request(
            "POST",
            EXCHANGE_PATH,
            safe=True,  # Not paid: an exchange repeated only makes another token.
            accept=(200, 201, *_EXCHANGE_REJECTED),
            form={"stoken": credential.secret, "email": credential.email},
        )
        if response.status in _EXCHANGE_REJECTED:
            raise AuthError(
                f"the email or secret token was rejected (HTTP {response.status})",
                provider=PROVIDER,
                status=response.status,
            )
        token = response.json_object().get("session_token")
        if not isinstance(token, str) or not token.strip():
            raise UnexpectedResponseError(
                f"{response.where} answered without a session_token",
                provider=PROVIDER,
                status=response.status,
            )
        logger.debug("%s session token exchanged", PROVIDER)
        return token
