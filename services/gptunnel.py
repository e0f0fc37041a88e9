"""GPTunnel media API (Imagen 3): create a task, poll its result, download the finished image."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp

from services.base import (
    GeneratedImage,
    ImageGenerator,
    OptionSpec,
    Pending,
    SingleSecretCredential,
    Submission,
    generated_image,
)
from services.exceptions import (
    AuthError,
    BadRequestError,
    JobFailedError,
    NotFoundError,
    OutOfCreditsError,
    ProviderError,
    ResultExpiredError,
    UnexpectedResponseError,
)
from services.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    HttpResponse,
    RequestObserver,
    RetryPolicy,
    describe_url,
)

logger = logging.getLogger(__name__)

PROVIDER = "gptunnel"
DEFAULT_MODEL = "google-imagen-3"
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")

_TASK_ID = re.compile(r"[0-9a-fA-F]{24}")
_DONE = "done"
# The document names failed/error; the others are the usual words for a job that ended unfinished.
_FAILED = frozenset({"failed", "failure", "error", "canceled", "cancelled", "rejected"})
# The storage host answers these for a result link that has expired or was removed.
_GONE = frozenset({401, 403, 404, 410})

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


class GPTunnelCredential(SingleSecretCredential):
    """A GPTunnel API key, sent as the raw Authorization header value."""

    provider: ClassVar[str] = PROVIDER
    fields: ClassVar[tuple[str, ...]] = ("api_key",)


@dataclass(frozen=True, slots=True)
class MediaTask:
    """A media task as /v1/media/create and /v1/media/result describe it."""

    id: str
    model: str
    prompt: str
    status: str
    url: str | None
    created_at: int | None


class GPTunnelClient(ImageGenerator[GPTunnelCredential]):
    """Imagen 3 through GPTunnel: one paid create, then result polls and an immediate download."""

    name: ClassVar[str] = PROVIDER
    credential_type = GPTunnelCredential
    options: ClassVar[tuple[OptionSpec, ...]] = (OptionSpec("ar", ASPECT_RATIOS, default="1:1"),)

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        observer: RequestObserver | None = None,
        model: str = DEFAULT_MODEL,
        max_result_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self._model = model
        self._max_result_bytes = max_result_bytes
        self._api = HttpClient(
            session,
            provider=PROVIDER,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            observer=observer,
            error_mapper=_map_error,
        )

    async def create(self, credential: GPTunnelCredential, *, prompt: str, ar: str) -> MediaTask:
        """Start a paid task (POST /v1/media/create); never re-sent once it may have been taken."""
        self.validate_options({"ar": ar})
        text = prompt.strip()
        if not text:
            raise BadRequestError("the prompt is empty", provider=PROVIDER)
        response = await self._api.request(
            "POST",
            "/v1/media/create",
            safe=False,
            json_body={"model": self._model, "prompt": text, "ar": ar},
            headers=_headers(credential),
        )
        task = _parse_task(response)
        logger.info("gptunnel task %s created, status %s", task.id, task.status)
        return task

    async def result(self, credential: GPTunnelCredential, *, task_id: str) -> MediaTask:
        """The task's current state (POST /v1/media/result); safe to repeat."""
        if not _TASK_ID.fullmatch(task_id):
            raise BadRequestError("a task id is 24 hexadecimal digits", provider=PROVIDER)
        response = await self._api.request(
            "POST",
            "/v1/media/result",
            safe=True,
            json_body={"task_id": task_id},
            headers=_headers(credential),
        )
        task = _parse_task(response)
        if task.id.lower() != task_id.lower():
            raise UnexpectedResponseError(
                f"{response.where} answered about another task", provider=PROVIDER
            )
        return task

    async def submit(
        self, credential: GPTunnelCredential, *, prompt: str, options: Mapping[str, str]
    ) -> Submission:
        """Check the options (ar defaults to 1:1) and start the task."""
        resolved = self.validate_options(options)
        task = await self.create(credential, prompt=prompt, ar=resolved["ar"])
        return Submission(task_id=task.id)

    async def poll(
        self, credential: GPTunnelCredential, *, task_id: str
    ) -> Pending | GeneratedImage:
        """One result call; when done, the image is downloaded at once (its link expires)."""
        task = await self.result(credential, task_id=task_id)
        status = task.status.casefold()
        logger.debug("gptunnel task %s: %s", task.id, task.status)
        if status in _FAILED:
            raise JobFailedError(f"task ended with status {task.status!r}", provider=PROVIDER)
        if status != _DONE:
            return Pending(status=task.status)
        if task.url is None:
            raise UnexpectedResponseError("task is done but has no result URL", provider=PROVIDER)
        return generated_image(
            await self._download(task.url),
            provider=PROVIDER,
            where=f"the result at {describe_url(task.url)}",
        )

    async def _download(self, url: str) -> bytes:
        """The result image's bytes, fetched without any credential (a third-party host)."""
        try:
            return await self._api.download(url, max_bytes=self._max_result_bytes)
        except ProviderError as e:
            if e.status not in _GONE:
                raise
            raise ResultExpiredError(
                f"the result image is gone (HTTP {e.status}): its temporary link has expired",
                provider=PROVIDER,
                status=e.status,
            ) from e


def _headers(credential: GPTunnelCredential) -> dict[str, str]:
    # The document's examples send the key itself, with no "Bearer " scheme.
    return {"Authorization": credential.secret}


def _parse_task(response: HttpResponse) -> MediaTask:
    """A task from the documented shape; code != 0 is the provider refusing the request."""
    payload = response.json_object()
    code = payload.get("code")
    if type(code) is not int:
        raise _unexpected(response, "'code' is missing or not an integer")
    if code != 0:
        raise _refusal(response, payload) or BadRequestError(
            f"{response.where} refused the request ({_detail(response, payload)})",
            provider=PROVIDER,
            status=response.status,
        )
    task_id = _field(response, payload, "id", str)
    if not _TASK_ID.fullmatch(task_id):
        raise _unexpected(response, "'id' is not 24 hexadecimal digits")
    url = _field(response, payload, "url", str, nullable=True)
    if url is not None and not _is_absolute(url):
        raise _unexpected(response, "'url' is not an absolute http(s) URL")
    status = _field(response, payload, "status", str)
    if not status:
        raise _unexpected(response, "'status' is empty")
    return MediaTask(
        id=task_id,
        model=_field(response, payload, "model", str),
        prompt=_field(response, payload, "prompt", str),
        status=status,
        url=url,
        created_at=_field(response, payload, "created_at", int, nullable=True),
    )


def _field(
    response: HttpResponse,
    payload: Mapping[str, Any],
    key: str,
    kind: type[Any],
    *,
    nullable: bool = False,
) -> Any:
    """A documented field, present and of its documented type (bool is not an int)."""
    if key not in payload:
        raise _unexpected(response, f"{key!r} is missing")
    value = payload[key]
    if value is None and nullable:
        return None
    if type(value) is not kind:
        raise _unexpected(response, f"{key!r} is not a {kind.__name__}")
    return value


def _is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _unexpected(response: HttpResponse, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{response.where} answered an unexpected body: {what}",
        provider=PROVIDER,
        status=response.status,
    )


def _map_error(response: HttpResponse) -> ProviderError | None:
    """A refusal named by the body of a 4xx answer; None leaves the status to decide.

    429 stays a rate limit whatever its body says, so the HTTP layer's retry rules still apply.
    """
    if not 400 <= response.status < 500 or response.status == 429:
        return None
    try:
        payload = response.json()
    except UnexpectedResponseError:
        return None
    return _refusal(response, payload) if isinstance(payload, dict) else None


def _refusal(response: HttpResponse, payload: Mapping[str, Any]) -> ProviderError | None:
    """The typed error the provider's wording names, if it names one we know."""
    text = _provider_text(payload)
    for words, error_type, what in _REFUSALS:
        if any(word in text for word in words):
            return error_type(
                f"{response.where} refused the request: {what} ({_detail(response, payload)})",
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


def _detail(response: HttpResponse, payload: Mapping[str, Any]) -> str:
    code = payload.get("code")
    if type(code) is int:
        return f"HTTP {response.status}, code {code}"
    return f"HTTP {response.status}"
