"""The GPTunnel media API client (Imagen 3): create a task, poll it, download the image."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar

import aiohttp

from services.base import (
    GeneratedImage,
    ImageGenerator,
    OptionSpec,
    Pending,
    Submission,
    generated_image,
)
from services.exceptions import (
    BadRequestError,
    JobFailedError,
    ProviderError,
    ResultExpiredError,
    UnexpectedResponseError,
)
from services.gptunnel.credential import PROVIDER, GPTunnelCredential, auth_headers
from services.gptunnel.errors import map_error
from services.gptunnel.tasks import TASK_ID, MediaTask, parse_task
from services.http import DEFAULT_TIMEOUT, HttpClient, RequestObserver, RetryPolicy, describe_url

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "google-imagen-3"
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")

_DONE = "done"
# The document names failed/error; the others are the usual words for a job that ended unfinished.
_FAILED = frozenset({"failed", "failure", "error", "canceled", "cancelled", "rejected"})
# The storage host answers these for a result link that has expired or was removed.
_GONE = frozenset({401, 403, 404, 410})


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
            error_mapper=map_error,
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
            headers=auth_headers(credential),
        )
        task = parse_task(response)
        logger.info("gptunnel task %s created, status %s", task.id, task.status)
        return task

    async def result(self, credential: GPTunnelCredential, *, task_id: str) -> MediaTask:
        """The task's current state (POST /v1/media/result); safe to repeat."""
        if not TASK_ID.fullmatch(task_id):
            raise BadRequestError("a task id is 24 hexadecimal digits", provider=PROVIDER)
        response = await self._api.request(
            "POST",
            "/v1/media/result",
            safe=True,
            json_body={"task_id": task_id},
            headers=auth_headers(credential),
        )
        task = parse_task(response)
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
