"""The DescribePicture client: its one encrypted call, counted against the local quota."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import ClassVar

import aiohttp

from services.base import Credential, Description, ImageDescriber, Turn
from services.describepicture.credential import PROVIDER, DescribePictureCredential
from services.describepicture.envelope import PUBLISHED_KEY_HEX, checked_key
from services.describepicture.errors import SENT_APP_ID, error_from_object, map_error
from services.describepicture.quota import HourlyQuota
from services.describepicture.request import MAX_IMAGE_BYTES, checked_conversation, sealed_request
from services.exceptions import QuotaExceededError, UnexpectedResponseError
from services.http import DEFAULT_TIMEOUT, HttpClient, RequestObserver, RetryPolicy

logger = logging.getLogger(__name__)

DEFAULT_URL = "https://us-central1-describepicture.cloudfunctions.net/describe_picture_api"
_MAX_ANSWER_BYTES = 1024 * 1024


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
            error_mapper=map_error,
        )
        self._key = checked_key(encryption_key)
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
        prompt = checked_conversation(conversation)
        size = len(image)
        sealed = await asyncio.to_thread(
            sealed_request,
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
        sent = SENT_APP_ID.set(credential.secret)
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
                raise error_from_object(body, response) or UnexpectedResponseError(
                    f"{response.where} answered an error that is not an error object",
                    provider=PROVIDER,
                    status=response.status,
                )
        except QuotaExceededError as e:
            if self._quota is not None and e.reset_at is None:
                e.reset_at = await self._quota.reset_at(credential.secret)
            raise
        finally:
            SENT_APP_ID.reset(sent)
        answer = body.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            raise UnexpectedResponseError(
                f"{response.where} answered without an answer", provider=PROVIDER
            )
        credits = body.get("lastCredits")
        if not isinstance(credits, int) or isinstance(credits, bool):
            credits = None
        return Description(text=answer.strip(), credits=credits, image_resized=sealed.resized)
