"""The fake GPTunnel: its media API routes, the checks they make, and its storage host."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

from playground.providers.gptunnel.outcomes import Outcome, streamed_answer, truncated_answer

API_KEY = "shds-FAKEgptunnelKEY0123456789abcdef"
MODEL = "google-imagen-3"
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
_HEX = frozenset("0123456789abcdef")


def webp_image(width: int = 48, height: int = 32) -> bytes:
    """A real WebP image made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "WEBP")
    return out.getvalue()


@dataclass
class FakeTask:
    """A task the fake accepted."""

    id: str
    prompt: str
    ar: str
    created_at: int
    polls: int = 0
    created: float = field(default_factory=time.monotonic)


@dataclass
class GPTunnelFake:
    """GPTunnel as its document describes it; queue Outcomes to script errors and oddities."""

    api_key: str = API_KEY
    other_keys: tuple[str, ...] = ()
    """More accounts' keys it takes: callers with keys of their own can be told apart."""
    model: str = MODEL
    progress: tuple[str, ...] = ("idle", "processing")
    """Statuses answered by the first result polls of a task, one per poll."""
    final_status: str = "done"
    """Status once `progress` is used up; "done" carries the result link."""
    ready_after: float | None = None
    """When set, a task is still "processing" until this many seconds after its create."""
    image: bytes = field(default_factory=webp_image)
    create_outcomes: deque[Outcome] = field(default_factory=deque)
    result_outcomes: deque[Outcome] = field(default_factory=deque)
    image_outcomes: deque[Outcome] = field(default_factory=deque)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    create_gate: asyncio.Event | None = None
    """When set, a create is accepted at once but answered only once the event is set."""
    image_gate: asyncio.Event | None = None
    """When set, a result download is answered only once the event is set."""
    held: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a request starts waiting at `create_gate` or `image_gate`."""
    polled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a result poll is answered; tests clear it to wait for the next one."""
    violations: list[str] = field(default_factory=list)
    """Things a client must never do (a Bearer key, a key sent to the storage host)."""
    image_bytes_sent: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        """The aiohttp application serving the API and the storage host's result route."""
        app = web.Application()
        app.router.add_post("/v1/media/create", self._create)
        app.router.add_post("/v1/media/result", self._result)
        app.router.add_get("/v1/media/result", self._result)
        app.router.add_get("/exp48h/{name}", self._image)
        app.on_shutdown.append(self._release)
        return app

    async def _release(self, _app: web.Application) -> None:
        self.released.set()

    async def _create(self, request: web.Request) -> web.StreamResponse:
        refused = self._check_auth(request)
        if refused:
            return refused
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        unknown = sorted(set(body) - {"model", "prompt", "ar"})
        if unknown:
            return _error(400, f"unexpected fields: {', '.join(unknown)}")
        if body.get("model") != self.model:
            return _error(400, f"model must be {self.model!r}")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return _error(400, "prompt is required")
        # The document makes ar optional; the bot always sends it, so the fake demands it.
        ar = body.get("ar")
        if ar not in ASPECT_RATIOS:
            return _error(400, f"ar must be one of {', '.join(ASPECT_RATIOS)}")
        if self.create_outcomes:
            return await self._serve(request, self.create_outcomes.popleft())
        task = FakeTask(
            id=secrets.token_hex(12), prompt=prompt, ar=str(ar), created_at=int(time.time())
        )
        self.tasks[task.id] = task
        if self.create_gate is not None:
            self.held.set()
            await self.create_gate.wait()  # accepted, but the answer is held back
        return web.json_response(self._task_body(task, "idle", None))

    async def _result(self, request: web.Request) -> web.StreamResponse:
        refused = self._check_auth(request)
        if refused:
            return refused
        if request.method == "GET":
            task_id: Any = request.query.get("task_id")
        else:
            body = await _json_body(request)
            if isinstance(body, web.Response):
                return body
            if set(body) != {"task_id"}:
                return _error(400, "the body must hold exactly task_id")
            task_id = body["task_id"]
        if not isinstance(task_id, str) or len(task_id) != 24 or not set(task_id) <= _HEX:
            return _error(400, "task_id must be 24 hexadecimal digits")
        if self.result_outcomes:
            return await self._serve(request, self.result_outcomes.popleft())
        task = self.tasks.get(task_id)
        if task is None:
            return _error(404, "task not found")
        status = self.progress[task.polls] if task.polls < len(self.progress) else self.final_status
        if self.ready_after is not None and time.monotonic() - task.created < self.ready_after:
            status = "processing"
        task.polls += 1
        self.polled.set()
        url = f"{request.url.origin()}/exp48h/{task.id}_result.webp" if status == "done" else None
        return web.json_response(self._task_body(task, status, url))

    async def _image(self, request: web.Request) -> web.StreamResponse:
        if "Authorization" in request.headers:
            self.violations.append("Authorization header sent to the result storage host")
            return web.Response(status=400, text="no credentials here")
        if self.image_gate is not None:
            self.held.set()
            await self.image_gate.wait()
        if self.image_outcomes:
            return await self._serve(request, self.image_outcomes.popleft())
        name = request.match_info["name"]
        task = self.tasks.get(name.removesuffix("_result.webp"))
        ready = task is not None and task.polls > len(self.progress)
        if not name.endswith("_result.webp") or not ready or self.final_status != "done":
            return web.Response(status=404, text="NoSuchKey")
        return web.Response(body=self.image, content_type="image/webp")

    def _check_auth(self, request: web.Request) -> web.Response | None:
        value = request.headers.get("Authorization")
        if value is None:
            return _error(401, "missing Authorization header")
        if value.lower().startswith("bearer "):
            self.violations.append("API key sent with a Bearer prefix")
            return _error(401, "Authorization must be the API key itself, without Bearer")
        if value != self.api_key and value not in self.other_keys:
            return _error(401, "unknown API key")
        return None

    def _task_body(self, task: FakeTask, status: str, url: str | None) -> dict[str, Any]:
        # The document's answers echo the prompt with the ratio appended, Midjourney style.
        return {
            "code": 0,
            "id": task.id,
            "model": self.model,
            "prompt": f"{task.prompt} --ar {task.ar}",
            "created_at": task.created_at,
            "status": status,
            "url": url,
        }

    def _count_sent(self, size: int) -> None:
        self.image_bytes_sent += size

    async def _serve(self, request: web.Request, outcome: Outcome) -> web.StreamResponse:
        if outcome.hang:
            await self.released.wait()
            return web.Response(status=503)
        if outcome.cut:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=499)  # never reaches the client
        if outcome.truncate:
            return await truncated_answer(request, outcome)
        if outcome.size:
            return await streamed_answer(request, outcome, on_sent=self._count_sent)
        return web.Response(
            status=outcome.status,
            body=outcome.body,
            headers=outcome.headers,
            content_type=outcome.content_type,
        )


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    if request.content_type != "application/json":
        return _error(400, "Content-Type must be application/json")
    try:
        body = json.loads(await request.read())
    except ValueError:
        return _error(400, "the body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    return body


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"code": 1, "error": message}, status=status)
