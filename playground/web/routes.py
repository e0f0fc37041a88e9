"""The web chat's HTTP side: the page, its JSON API, the event stream and the files."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from playground.telegram import FakeBotApi
from playground.web.cast import Cast
from playground.web.feed import Feed
from playground.web.inline import add_inline_routes
from playground.web.keys import API, CAST, FEED, number
from playground.web.sending import Outgoing, send
from playground.web.view import menu

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
_MAX_UPLOAD = 60 * 1024 * 1024


def web_chat(api: FakeBotApi) -> web.Application:
    """The aiohttp app of the web chat for the emulator's users."""
    app = web.Application(client_max_size=_MAX_UPLOAD)
    cast = Cast()
    cast.enter(api)
    app[API] = api
    app[CAST] = cast
    app[FEED] = Feed(api.state, lambda chat_id: chat_id in cast.chats)
    app.router.add_get("/", _page)
    app.router.add_static("/static", STATIC)
    app.router.add_get("/api/setup", _setup)
    app.router.add_get("/api/menu", _menu)
    app.router.add_get("/api/events", _events)
    app.router.add_get("/api/file/{file_id}", _file)
    app.router.add_post("/api/send", _send)
    app.router.add_post("/api/press", _press)
    app.router.add_post("/api/language", _language)
    add_inline_routes(app)
    app.cleanup_ctx.append(_watching)
    app.on_shutdown.append(_closing)
    return app


async def _watching(app: web.Application) -> Any:
    task = asyncio.create_task(app[FEED].run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _closing(app: web.Application) -> None:
    app[FEED].close()


async def _page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def _setup(request: web.Request) -> web.Response:
    return web.json_response(request.app[CAST].setup())


async def _menu(request: web.Request) -> web.Response:
    cast = request.app[CAST]
    chat = cast.chats.get(number(request.query.get("chat")))
    if chat is None:
        raise web.HTTPNotFound(text="no such chat")
    commands = menu(request.app[API].state, chat.id, chat.type, cast.language)
    return web.json_response(commands)


async def _events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: every shown message first, then each change as it happens."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    feed = request.app[FEED]
    async with feed.subscribe() as queue:
        for current in feed.snapshot():
            await response.write(_sse(current))
        await response.write(_sse({"type": "ready"}))
        while (event := await queue.get()) is not None:
            await response.write(_sse(event))
    return response


def _sse(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


async def _file(request: web.Request) -> web.Response:
    stored = request.app[API].state.files.by_id.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound(text="no such file")
    headers = {}
    if stored.kind == "document":
        name = (stored.name or "file").replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    content_type = stored.mime_type or _image_type(stored.path)
    return web.Response(body=stored.data, content_type=content_type, headers=headers)


def _image_type(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "webp": "image/webp"}.get(suffix, "image/jpeg")


async def _send(request: web.Request) -> web.Response:
    """A message from a simulated user: text, photos, an album or files, maybe a reply."""
    form = await request.post()
    outgoing = Outgoing(
        text=str(form.get("text", "")),
        as_files=form.get("as_file") == "1",
    )
    for upload in form.getall("file", []):
        if isinstance(upload, web.FileField):
            outgoing.add_file(upload.filename, upload.content_type, upload.file.read())
    try:
        chat, user = request.app[CAST].speaker(number(form.get("chat")), number(form.get("user")))
        outgoing.reply_to = number(form["reply_to"]) if form.get("reply_to") else None
        send(request.app[API], chat, user, outgoing)
    except ValueError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return web.json_response({"ok": True})


async def _press(request: web.Request) -> web.Response:
    body = await request.json()
    cast = request.app[CAST]
    api = request.app[API]
    try:
        chat, user = cast.speaker(number(body.get("chat")), number(body.get("user")))
        message = api.message(chat.id, number(body.get("message")))
        api.press(user, message, str(body.get("data")))
    except (ValueError, KeyError) as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return web.json_response({"ok": True})


async def _language(request: web.Request) -> web.Response:
    body = await request.json()
    cast = request.app[CAST]
    try:
        cast.set_language(str(body.get("language")))
    except ValueError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return web.json_response(cast.setup())
