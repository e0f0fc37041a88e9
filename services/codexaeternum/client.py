"""The CodexAeternum client: generate and fetch, and describe, with a session token."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping, Sequence
from typing import ClassVar

import aiohttp

from services.base import (
    Credential,
    Description,
    GeneratedImage,
    ImageDescriber,
    ImageGenerator,
    OptionSpec,
    Pending,
    Submission,
    Turn,
    generated_image,
)
from services.codexaeternum.answers import credits_error, credits_of, decode_image, missing
from services.codexaeternum.credential import PROVIDER, CodexAeternumCredential
from services.codexaeternum.session import SessionTokens
from services.codexaeternum.tokens import MemorySessionTokenStore, SessionTokenStore
from services.exceptions import BadRequestError, UnexpectedResponseError
from services.http import DEFAULT_TIMEOUT, HttpClient, HttpResponse, RequestObserver, RetryPolicy
from services.images import fit_under

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://codexaeternum.com"
MAX_DESCRIBE_IMAGE_BYTES = 5_000_000
"""The document's "<= 5.0 MB", read as decoded bytes in the stricter decimal sense."""

IMAGE_PATH = "/api/dev/image/"
DESCRIBE_PATH = "/describe_image/"


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
            error_mapper=credits_error,
        )
        self._sessions = SessionTokens(self._http, token_store or MemorySessionTokenStore())

    async def exchange_token(self, credential: CodexAeternumCredential) -> str:
        """Exchange the credential for a new session token now, cache it and return it."""
        return await self._sessions.exchange(credential)

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

        response = await self._sessions.authenticated(credential, call)
        body = response.json_object()
        task_id = body.get("task_id")
        if isinstance(task_id, int) and not isinstance(task_id, bool):
            task_id = str(task_id)
        if not isinstance(task_id, str) or not task_id:
            raise missing(response, "a task_id")
        logger.info("%s generation accepted: task %s", PROVIDER, task_id)
        return Submission(task_id=task_id, credits=credits_of(body))

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

        response = await self._sessions.authenticated(credential, call)
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
            decode_image(value, response.where),
            provider=PROVIDER,
            where=f"{response.where}: the result",
            credits=credits_of(body),
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

        response = await self._sessions.authenticated(credential, call)
        body = response.json_object()
        messages = body.get("description")
        if not isinstance(messages, list):
            raise missing(response, "a description")
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
            credits=credits_of(body),
            # A format conversion alone (a small GIF) is not worth telling the user about.
            image_resized=fitted.shrunk,
        )
