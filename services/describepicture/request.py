"""The request body: the conversation checked, the image fitted, all sealed in an envelope."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from services.base import Turn
from services.describepicture.credential import PROVIDER
from services.describepicture.envelope import encrypt_envelope
from services.exceptions import BadRequestError
from services.images import fit_under

MAX_IMAGE_BYTES = 5_000_000
"""Largest image sent: base64 twice over (image, then envelope) makes the body ~1.78x that, which
stays under the 10 MB request limit of Cloud Functions."""

_ROLES = frozenset({"user", "model"})


def checked_conversation(conversation: Sequence[Turn]) -> list[dict[str, str]]:
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
class SealedRequest:
    """A request body ready to send, and what the log needs to know about its image."""

    body: bytes
    """The envelope, serialized."""
    mime_type: str
    image_bytes: int
    resized: bool


def sealed_request(
    image: bytes, *, prompt: list[dict[str, str]], app_id: str, key: bytes, max_image_bytes: int
) -> SealedRequest:
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
    return SealedRequest(
        body=json.dumps(encrypt_envelope(payload, key)).encode("ascii"),
        mime_type=fitted.mime_type,
        image_bytes=len(fitted.data),
        resized=fitted.shrunk,
    )
