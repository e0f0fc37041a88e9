"""A fake CodexAeternum that checks every request as the provider's document describes it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

MAX_IMAGE_BYTES = 5_000_000
FORM = "application/x-www-form-urlencoded"

PendingStyle = Literal["missing", "null", "empty", "202", "404"]
"""How a job that is not ready yet is answered: key missing, null, "", HTTP 202 or HTTP 404."""


@dataclass(frozen=True)
class Canned:
    """A scripted answer given instead of the normal one, once the request passed the checks."""

    status: int = 200
    body: Any = None
    """A JSON value, or bytes sent as they are (malformed JSON)."""
    hang: bool = False
    """Never answer (until the server shuts down)."""


HANG = Canned(hang=True)
MALFORMED = Canned(200, b'{"task_id": ')


@dataclass
class Job:
    """A generation job: done after `polls_left` fetches answered as pending."""

    image: bytes
    polls_left: int
    pending: PendingStyle


@dataclass
class FakeCodexAeternum:
    """The provider's state; tests script it and read what it saw."""

    users: dict[str, str] = field(default_factory=dict)
    """email -> stoken of the registered users."""
    credits: int = 54
    image: bytes = b""
    """The image every job delivers."""
    pending_polls: int = 0
    pending_style: PendingStyle = "missing"
    data_prefix: bool = False
    """Deliver results as data:image/png;base64,... instead of plain base64."""
    answers: list[str] = field(default_factory=lambda: ["A mountain range at sunset."])
    exchange_outcomes: deque[Canned] = field(default_factory=deque)
    generate_outcomes: deque[Canned] = field(default_factory=deque)
    fetch_outcomes: deque[Canned] = field(default_factory=deque)
    describe_outcomes: deque[Canned] = field(default_factory=deque)
    tokens: dict[str, str] = field(default_factory=dict)
    """Valid session token -> email."""
    issued: list[str] = field(default_factory=list)
    """Every session token ever issued, to check none leaks."""
    jobs: dict[str, Job] = field(default_factory=dict)
    described: list[bytes] = field(default_factory=list)
    """The decoded images that describe requests carried."""
    questions: list[str] = field(default_factory=list)
    """The `promp` of every describe request, in order."""
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def expire_tokens(self) -> None:
        """Forget every session token, so the next call gets HTTP 401."""
        self.tokens.clear()

    def app(self) -> web.Application:
        """The aiohttp application serving the four endpoints."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/login/tokenexchange/", self._exchange)
        app.router.add_post("/api/dev/image/", self._generate)
        app.router.add_get("/api/dev/image/", self._fetch)
        app.router.add_post("/describe_image/", self._describe)
        app.on_shutdown.append(self._release)
        return app

    async def _release(self, _app: web.Application) -> None:
        self.released.set()

    async def _exchange(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != FORM:
            return _bad(f"the exchange must be {FORM}, got {request.content_type}")
        form = await _form(request)
        if set(form) != {"stoken", "email"}:
            return _bad(f"the exchange needs exactly stoken and email, got {sorted(form)}")
        if canned := await self._canned(self.exchange_outcomes):
            return canned
        if self.users.get(form["email"]) != form["stoken"]:
            return web.json_response({"detail": "Invalid credentials"}, status=401)
        token = secrets.token_hex(16)
        self.tokens[token] = form["email"]
        self.issued.append(token)
        return web.json_response({"session_token": token})

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != FORM:
            return _bad(f"generate must be form data ({FORM}), got {request.content_type}")
        form = await _form(request)
        if set(form) != {"session_token", "prompt"}:
            return _bad(f"generate needs exactly session_token and prompt, got {sorted(form)}")
        cookie = request.cookies.get("session_token")
        if cookie is None:
            return _bad("generate needs the session_token cookie")
        if cookie != form["session_token"]:
            return _bad("the session_token cookie and form field differ")
        if not form["prompt"].strip():
            return _bad("the prompt is empty")
        if cookie not in self.tokens:
            return _unauthorized()
        if canned := await self._canned(self.generate_outcomes):
            return canned
        if self.credits <= 0:
            return _out_of_credits()
        self.credits -= 1
        task_id = f"task-{len(self.jobs) + 1}"
        self.jobs[task_id] = Job(self.image, self.pending_polls, self.pending_style)
        return web.json_response({"task_id": task_id})

    async def _fetch(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Session-Token")
        if token is None:
            return _bad("fetching a result needs the Session-Token header")
        if set(request.query) != {"task_id"}:
            return _bad(f"fetching a result takes only task_id, got {sorted(request.query)}")
        if token not in self.tokens:
            return _unauthorized()
        if canned := await self._canned(self.fetch_outcomes):
            return canned
        task_id = request.query["task_id"]
        job = self.jobs.get(task_id)
        if job is None:
            return web.json_response({"detail": "Not found"}, status=404)
        if job.polls_left > 0:
            job.polls_left -= 1
            return _pending(task_id, job.pending)
        value = base64.b64encode(job.image).decode("ascii")
        if self.data_prefix:
            value = f"data:image/png;base64,{value}"
        return web.json_response({task_id: value})

    async def _describe(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _bad(f"describe must be application/json, got {request.content_type}")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _bad("describe body is not JSON")
        if not isinstance(body, dict):
            return _bad("describe body is not a JSON object")
        if "prompt" in body:
            return _bad("the field is 'promp', not 'prompt'")
        if set(body) != {"session_token", "promp", "image_base64"}:
            return _bad(f"describe needs session_token, promp, image_base64; got {sorted(body)}")
        if not isinstance(body["promp"], str) or not body["promp"].strip():
            return _bad("promp must be a non-empty string")
        cookie = request.cookies.get("session_token")
        if cookie is None:
            return _bad("describe needs the session_token cookie")
        if cookie != body["session_token"]:
            return _bad("the session_token cookie and body field differ")
        if cookie not in self.tokens:
            return _unauthorized()
        encoded = body["image_base64"]
        if not isinstance(encoded, str) or encoded.startswith("data:"):
            return _bad("image_base64 must be plain base64, without a data: prefix")
        try:
            image = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return _bad("image_base64 is not valid base64")
        if len(image) > MAX_IMAGE_BYTES:
            return web.json_response({"detail": "Image must be <= 5.0 MB"}, status=413)
        self.described.append(image)
        self.questions.append(body["promp"])
        if canned := await self._canned(self.describe_outcomes):
            return canned
        if self.credits <= 0:
            return _out_of_credits()
        self.credits -= 1
        messages = [{"role": "assistant", "content": answer} for answer in self.answers]
        return web.json_response(
            {
                "description": [encoded, *messages],
                "task_id": "MV8xNzUwNjEzMTU2LjU2NDExMjRfLmpwZw==",
                "credits": self.credits,
                "path_image": "images/1.jpg",
                "destination": "bucket",
            }
        )

    async def _canned(self, outcomes: deque[Canned]) -> web.StreamResponse | None:
        if not outcomes:
            return None
        outcome = outcomes.popleft()
        if outcome.hang:
            await self.released.wait()
            return web.Response(status=503)
        if isinstance(outcome.body, bytes):
            return web.Response(
                status=outcome.status, body=outcome.body, content_type="application/json"
            )
        return web.json_response(outcome.body, status=outcome.status)


async def _form(request: web.Request) -> dict[str, str]:
    return {name: str(value) for name, value in (await request.post()).items()}


def _bad(message: str) -> web.Response:
    return web.json_response({"detail": message}, status=400)


def _unauthorized() -> web.Response:
    return web.json_response({"detail": "Invalid or expired session token"}, status=401)


def _out_of_credits() -> web.Response:
    return web.json_response({"error": "Insufficient credits"}, status=402)


def _pending(task_id: str, style: PendingStyle) -> web.Response:
    if style == "202":
        return web.json_response({"status": "processing"}, status=202)
    if style == "404":
        return web.json_response({"detail": "Not ready"}, status=404)
    if style == "null":
        return web.json_response({task_id: None})
    if style == "empty":
        return web.json_response({task_id: ""})
    return web.json_response({})
