"""A loopback DescribePicture: opens each envelope with its own AES-GCM code and checks it."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from Crypto.Cipher import AES
from PIL import Image

from services.describepicture import decrypt_envelope

PATH = "/describe_picture_api"
FIELDS = frozenset({"imageUrl", "imageBase64", "prompt", "mimeType", "appId"})
ENVELOPE_FIELDS = frozenset({"iv", "encryptedData"})


def error_object(
    code: str, message: str, *, field: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """The provider's error body, in the document's shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None or reason is not None:
        error["details"] = {"field": field, "reason": reason}
    return {"error": error}


DOCUMENTED_ERROR = error_object(
    "INVALID_REQUEST",
    "请求参数无效:imageUrl 是必需的",
    field="imageUrl",
    reason="FIELD_REQUIRED",
)
"""The error example of the document, word for word."""


def open_envelope(iv: str, encrypted_data: str, key: bytes) -> bytes:
    """The fake's own AES-256-GCM decryption, so a bug in the client's cannot hide itself."""
    nonce = base64.b64decode(iv, validate=True)
    sealed = base64.b64decode(encrypted_data, validate=True)
    if len(nonce) != 12 or len(sealed) < 16:
        raise ValueError("a 12-byte nonce and a 16-byte tag are required")
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    return bytes(cipher.decrypt_and_verify(sealed[:-16], sealed[-16:]))


@dataclass(frozen=True)
class Reply:
    """A canned answer to the next valid request: JSON or raw bytes, or a hang."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    hang: bool = False


@dataclass
class FakeDescribePicture:
    """The provider's state: known appIds with their credits, canned replies, what it received."""

    key: bytes
    credits: dict[str, int] = field(default_factory=dict)
    replies: deque[Reply] = field(default_factory=deque)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    """Every decrypted request body, in order, including ones then refused."""
    never: asyncio.Event = field(default_factory=asyncio.Event)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a request's payload is recorded (before any canned reply or hang)."""

    def app(self) -> web.Application:
        """The aiohttp application serving the function's URL."""
        app = web.Application()
        app.router.add_post(PATH, self._describe)
        return app

    def fail(
        self,
        code: str,
        *,
        status: int = 400,
        message: str = "request refused",
        field: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Answer the next valid request with an error object."""
        body = error_object(code, message, field=field, reason=reason)
        self.replies.append(Reply(status=status, body=body))

    def respond(self, body: Any, *, status: int = 200) -> None:
        """Answer the next valid request with this JSON body."""
        self.replies.append(Reply(status=status, body=body))

    def status(self, status: int) -> None:
        """Answer the next valid request with a bare status and a text body."""
        self.replies.append(Reply(status=status, raw=b"upstream trouble"))

    def malformed(self) -> None:
        """Answer the next valid request with broken JSON."""
        self.replies.append(Reply(raw=b'{"answer": "cut off'))

    def hang(self) -> None:
        """Never answer the next valid request."""
        self.replies.append(Reply(hang=True))

    async def _describe(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _invalid("Content-Type", "must be application/json")
        try:
            envelope = await request.json()
        except ValueError:
            return _invalid("body", "is not JSON")
        if not isinstance(envelope, dict) or set(envelope) != ENVELOPE_FIELDS:
            return _invalid("body", "must have exactly iv and encryptedData")
        if not all(isinstance(v, str) for v in envelope.values()):
            return _invalid("body", "iv and encryptedData must be strings")
        try:
            plaintext = open_envelope(envelope["iv"], envelope["encryptedData"], self.key)
            payload = json.loads(plaintext)
        except ValueError:  # bad base64 (binascii.Error), a failed tag check, not JSON
            return _invalid(
                "encryptedData", "cannot be decrypted with the key", "DECRYPTION_FAILED"
            )
        if not isinstance(payload, dict):
            return _invalid("encryptedData", "does not hold a JSON object")
        try:
            theirs = decrypt_envelope(envelope, self.key)
        except ValueError:
            theirs = None
        if theirs != payload:
            return _invalid("encryptedData", "the client's decrypt_envelope disagrees")
        self.payloads.append(payload)
        self.received.set()
        problem = _payload_problem(payload)
        if problem is not None:
            return _invalid(*problem)
        app_id = payload["appId"]
        if app_id not in self.credits:
            # The provider's own words may echo the appId: the client must not show them.
            body = error_object(
                "INVALID_APP_ID", f"unknown appId {app_id}", field="appId", reason="NOT_FOUND"
            )
            return web.json_response(body, status=400)
        if self.replies:
            return await self._canned(self.replies.popleft())
        if self.credits[app_id] <= 0:
            body = error_object("INSUFFICIENT_CREDITS", f"no credits left for {app_id}")
            return web.json_response(body, status=402)
        self.credits[app_id] -= 1
        question = payload["prompt"][-1]["text"]
        answer = f"A {payload['mimeType']} picture. You asked: {question}"
        return web.json_response({"answer": answer, "lastCredits": self.credits[app_id]})

    async def _canned(self, reply: Reply) -> web.StreamResponse:
        if reply.hang:
            await self.never.wait()
        if reply.raw is not None:
            return web.Response(
                status=reply.status, body=reply.raw, content_type="application/json"
            )
        return web.json_response(reply.body, status=reply.status)


def _invalid(field: str, what: str, reason: str = "INVALID") -> web.Response:
    body = error_object("INVALID_REQUEST", f"{field} {what}", field=field, reason=reason)
    return web.json_response(body, status=400)


def _payload_problem(payload: dict[str, Any]) -> tuple[str, str] | None:
    """What is wrong with a decrypted request body as field and reason, or None."""
    if set(payload) != FIELDS:
        return "body", f"must have exactly {sorted(FIELDS)}, not {sorted(payload)}"
    if payload["imageUrl"] != "":
        return "imageUrl", "must be empty: images go as imageBase64"
    prompt = payload["prompt"]
    if not isinstance(prompt, list) or not prompt:
        return "prompt", "must be a non-empty array"
    for turn in prompt:
        if not isinstance(turn, dict) or set(turn) != {"role", "text"}:
            return "prompt", "each item must have exactly role and text"
        if turn["role"] not in ("user", "model"):
            return "prompt", "role must be user or model"
        if not isinstance(turn["text"], str) or not turn["text"].strip():
            return "prompt", "text must be a non-empty string"
    if prompt[-1]["role"] != "user":
        return "prompt", "must end with a user turn"
    if not isinstance(payload["appId"], str) or not payload["appId"]:
        return "appId", "must be a non-empty string"
    if not isinstance(payload["imageBase64"], str) or not isinstance(payload["mimeType"], str):
        return "imageBase64", "imageBase64 and mimeType must be strings"
    try:
        image = base64.b64decode(payload["imageBase64"], validate=True)
        with Image.open(io.BytesIO(image)) as im:
            real_type = Image.MIME.get(im.format or "")
    except (ValueError, OSError):  # bad base64; not an image (UnidentifiedImageError)
        return "imageBase64", "is not a base64 image"
    if payload["mimeType"] != real_type:
        return "mimeType", f"is {payload['mimeType']} but the image is {real_type}"
    return None
