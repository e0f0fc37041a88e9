"""The test fakes as the benchmark needs them: provider latency, timed jobs, spans by user."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bench.spans import USER, Span, Spans, now
from playground.providers.ailuna import AiLunaState, make_app
from playground.providers.describepicture import FakeDescribePicture
from playground.providers.gptunnel import GPTunnelFake
from playground.providers.server import Handler
from playground.telegram import ApiCall, FakeBotApi, decode_picture
from services.describepicture import PUBLISHED_KEY_HEX

_PROMPT_USER = re.compile(r"\bu(\d+)\b")


@dataclass(frozen=True, slots=True)
class Served:
    """A fake listening on 127.0.0.1."""

    url: str
    runner: web.AppRunner


async def serve(app: web.Application, spans: Spans, source: str) -> Served:
    """Serve `app` on a free loopback port, every request timed into `spans`."""
    app.middlewares.insert(0, spans.middleware(source))
    # Handlers still waiting (a long poll, a provider's latency) are dropped at shutdown.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
    await site.start()
    return Served(url=f"http://127.0.0.1:{runner.addresses[0][1]}", runner=runner)


decode_picture_once = functools.lru_cache(maxsize=8)(decode_picture)
"""The emulator decodes each photo it stores; this decodes each distinct image once.

Otherwise a thousand identical photos would keep the fakes' process busy decoding, and the queue
that builds up there would be counted as the bot's time.
"""


class TimedGPTunnel:
    """GPTunnel whose tasks are done `seconds` after their create, however often polled."""

    def __init__(self, *, image: bytes, spans: Spans) -> None:
        self.fake = GPTunnelFake(progress=(), image=image)
        self.seconds = 2.0
        """The job duration of tasks created from now on."""
        self._spans = spans
        self._tasks: dict[str, tuple[int, float]] = {}
        """Task id -> (user, when it is done)."""
        self.slack: dict[int, float] = {}
        """User -> seconds from their task being ready to the poll that found it."""
        self.handed: dict[int, float] = {}
        """User -> when the result image was served to the bot (the result in hand)."""

    def app(self) -> web.Application:
        """The fake's application behind the timing wrapper."""
        app = self.fake.app()
        app.middlewares.append(self._timed)
        return app

    @web.middleware
    async def _timed(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/v1/media/create":
            return await self._create(request, handler)
        if request.path == "/v1/media/result":
            task_id = await _task_id(request)
        else:  # the storage host: /exp48h/<task>_result.webp
            task_id = request.match_info.get("name", "").removesuffix("_result.webp")
        known = self._tasks.get(task_id)
        if known is None:
            return await handler(request)
        request[USER], done_at = known
        if request.path == "/v1/media/result":
            if now() < done_at:
                return web.json_response(self._processing(task_id))
            self.slack.setdefault(request[USER], now() - done_at)
            return await handler(request)
        response = await handler(request)
        self.handed[request[USER]] = now()
        return response

    async def _create(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.json()
        response = await handler(request)
        found = _PROMPT_USER.search(str(body.get("prompt", "")))
        if found is None or not isinstance(response, web.Response) or response.status != 200:
            return response
        user = int(found.group(1))
        assert isinstance(response.body, bytes)
        task_id = json.loads(response.body)["id"]
        born = now()
        self._tasks[task_id] = (user, born + self.seconds)
        request[USER] = user
        self._spans.add(Span(user, "gptunnel", "job", born, born + self.seconds))
        return response

    def _processing(self, task_id: str) -> dict[str, Any]:
        """The answer of the fake for a task still running, in its own shape."""
        task = self.fake.tasks[task_id]
        return {
            "code": 0,
            "id": task.id,
            "model": self.fake.model,
            "prompt": f"{task.prompt} --ar {task.ar}",
            "created_at": task.created_at,
            "status": "processing",
            "url": None,
        }


async def _task_id(request: web.Request) -> str:
    if request.method == "GET":
        return request.query.get("task_id", "")
    try:
        body = await request.json()
    except ValueError:
        return ""
    return str(body.get("task_id", "")) if isinstance(body, dict) else ""


class SlowDescribePicture:
    """DescribePicture answering after `seconds`, with one App ID (and credits) per user."""

    def __init__(self) -> None:
        self.fake = FakeDescribePicture(key=bytes.fromhex(PUBLISHED_KEY_HEX))
        self.seconds = 1.0
        self._owners: dict[str, int] = {}
        self.handed: dict[int, float] = {}
        """User -> when their description was answered (the result in hand)."""

    def add_user(self, user: int) -> str:
        """A fresh App ID with credits for this user."""
        app_id = f"bench-app-{user}"
        self.fake.credits[app_id] = 1_000
        self._owners[app_id] = user
        return app_id

    def app(self) -> web.Application:
        """The fake's application behind the latency wrapper."""
        app = self.fake.app()
        app.middlewares.append(self._slow)
        return app

    @web.middleware
    async def _slow(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(self.seconds)
        # Read first, so the fake's handler runs without a pause: the payload it decrypts and
        # appends is then surely this request's (and is dropped here, to keep memory flat).
        await request.read()
        before = len(self.fake.payloads)
        response = await handler(request)
        if len(self.fake.payloads) == before + 1:
            payload = self.fake.payloads.pop()
            user = self._owners.get(str(payload.get("appId")))
            if user is not None:
                request[USER] = user
                self.handed[user] = now()
        return response


class SlowAiLuna:
    """AiLuna answering every request after `seconds`, with one key and gallery per user."""

    def __init__(self, *, image: bytes) -> None:
        self.state = AiLunaState(keys=set(), png=image)
        self.seconds = 0.3
        self._owners: dict[str, int] = {}

    def add_user(self, user: int, *, images: int) -> str:
        """A fresh API key for this user, with `images` images in its gallery."""
        key = f"bench-ailuna-{user}"
        self.state.keys.add(key)
        self._owners[key] = user
        for number in range(images):
            self.state.add(key, f"picture {number + 1} of u{user}")
        return key

    def app(self) -> web.Application:
        """The fake's application behind the latency wrapper."""
        app = make_app(self.state)
        app.middlewares.append(self._slow)
        return app

    @web.middleware
    async def _slow(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self._owners.get(key)
        if user is not None:
            request[USER] = user
        await asyncio.sleep(self.seconds)
        return await handler(request)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A Bot API call the driver waited for: when it arrived, and what the fake answered."""

    at: float
    result: Any


@dataclass(frozen=True, slots=True)
class _Watch:
    method: str
    marker: str | None
    arrived: asyncio.Future[Arrival]


class BenchBotApi(FakeBotApi):
    """The fake Bot API, timing every call by user and telling the driver when answers arrive."""

    def __init__(self, token: str, spans: Spans, *, limits: bool) -> None:
        """`limits`: Telegram's flood limits on, or off (the throughput ceiling)."""
        super().__init__(
            token, limits="telegram" if limits else None, decode_picture=decode_picture_once
        )
        self.call_hooks.append(self._timed_call)
        self.download_hooks.append(self._timed_download)
        self._spans = spans
        self._watches: dict[int, list[_Watch]] = {}
        self.owners: dict[str, int] = {}
        """File ids, file paths and callback query ids -> the user they belong to."""

    def expect(
        self, chat_id: int, method: str, marker: str | None = None
    ) -> asyncio.Future[Arrival]:
        """The next call of `method` into this chat (whose text or caption holds `marker`)."""
        arrived: asyncio.Future[Arrival] = asyncio.get_running_loop().create_future()
        self._watches.setdefault(chat_id, []).append(_Watch(method, marker, arrived))
        return arrived

    def forget(self, chat_id: int) -> None:
        """Drop the chat's watches that never matched (a run that timed out)."""
        for watch in self._watches.pop(chat_id, []):
            watch.arrived.cancel()

    async def _timed_call(self, call: ApiCall, proceed: Callable[[], Awaitable[Any]]) -> Any:
        start = now()
        user = self._user_of(call)
        try:
            result = await proceed()
        finally:
            if user is not None:
                self._spans.add(Span(user, "telegram", call.method, start, now()))
        if user is not None:
            if call.method == "getFile" and isinstance(result, dict):
                self.owners[str(result.get("file_path"))] = user
            self._arrived(user, call.method, call.params, Arrival(start, result))
        return result

    async def _timed_download(
        self, path: str, proceed: Callable[[], Awaitable[web.Response]]
    ) -> web.Response:
        start = now()
        try:
            return await proceed()
        finally:
            user = self.owners.get(path)
            if user is not None:
                self._spans.add(Span(user, "telegram", "download", start, now()))

    def _user_of(self, call: ApiCall) -> int | None:
        params = call.params
        if call.chat_id is not None:
            return call.chat_id
        for key in ("file_id", "callback_query_id"):
            if key in params:
                return self.owners.get(str(params[key]))
        return None

    def _arrived(self, chat_id: int, method: str, params: dict[str, Any], arrival: Arrival) -> None:
        watches = self._watches.get(chat_id, [])
        shown = str(params.get("text") or params.get("caption") or "")
        for watch in watches:
            if watch.method == method and (watch.marker is None or watch.marker in shown):
                watches.remove(watch)
                if not watch.arrived.done():
                    watch.arrived.set_result(arrival)
                return
