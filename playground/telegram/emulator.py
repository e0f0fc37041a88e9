"""The emulated Bot API over HTTP: one token's methods, downloads, webhook delivery, faults,
limits and hooks."""

# Checked as the real API checks them, so tests catch what Telegram would refuse: the token, chat
# and message ids, text and caption lengths, Telegram's HTML subset (Markdown modes are stored
# unchecked), inline keyboards (callback_data of 1-64 bytes), photo size and dimensions, the 20 MB
# getFile limit, "message is not modified", forum topics and the flood limits. Stored
# `text`/`caption` are what the user sees (markup parsed, `&lt;` decoded). An edit without
# `reply_markup` drops the keyboard, as Telegram does. In groups the bot may delete others'
# messages only after `add_member(chat, BOT, "administrator")`. Undocumented error texts are
# assumed: photos over 10 MB answer "PHOTO_SAVE_FILE_INVALID", undecodable photos
# "IMAGE_PROCESS_FAILED".

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Literal

from aiohttp import web

from playground.telegram.errors import ApiError
from playground.telegram.faults import Faults
from playground.telegram.limits import Limits
from playground.telegram.methods import METHODS
from playground.telegram.model import MAX_UPLOAD
from playground.telegram.pictures import PictureDecoder, decode_picture
from playground.telegram.player import Player
from playground.telegram.state import State
from playground.telegram.webhook import WebhookSender
from playground.telegram.wire import ApiCall, error_response, ok_response, read_params

logger = logging.getLogger(__name__)

Proceed = Callable[[], Awaitable[Any]]
CallHook = Callable[[ApiCall, Proceed], Awaitable[Any]]
"""Wraps answering a call: gets the call and `proceed()`, returns (or raises) what it does."""
DownloadHook = Callable[[str, Callable[[], Awaitable[web.Response]]], Awaitable[web.Response]]
"""Wraps serving a download: gets the file path and `proceed()`, returns the response."""


class FakeBotApi(Player):
    """The Bot API for one token; the `Player` methods act as its users."""

    def __init__(
        self,
        token: str,
        *,
        limits: Limits | Literal["telegram"] | None = "telegram",
        decode_picture: PictureDecoder = decode_picture,
    ) -> None:
        """`limits`: Telegram's (default), custom ones (e.g. with a test clock), or None: off.

        `decode_picture` reads every photo stored; a benchmark may pass a cached one.
        """
        self.token = token
        self.state = State(decode_picture)
        self.webhook_sender = WebhookSender(self.state)
        self.limits: Limits | None = Limits() if limits == "telegram" else limits
        self.faults = Faults(METHODS)
        self.call_hooks: list[CallHook] = []
        """Wrappers around answering each call (after holds and drops), first outermost."""
        self.download_hooks: list[DownloadHook] = []
        """Wrappers around serving each download, first outermost."""
        self._by_lower = {name.lower(): name for name in METHODS}
        self.fail_next = self.faults.fail_next
        self.drop_next = self.faults.drop_next
        self.hold_next = self.faults.hold_next

    def app(self) -> web.Application:
        """The aiohttp app serving /bot<token>/<method> and /file/bot<token>/<path>."""
        app = web.Application(client_max_size=MAX_UPLOAD + 8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, _: web.Application) -> None:
        self.state.closing = False
        self.webhook_sender.start()

    async def _on_shutdown(self, _: web.Application) -> None:
        # Hanging long polls return at once, so the server stops without waiting for them.
        self.state.closing = True
        self.state.journal.changed()
        await self.webhook_sender.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        asked = request.match_info["method"]
        method = self._by_lower.get(asked.lower(), asked)
        journal = self.state.journal
        try:
            params, files = await read_params(request)
        except Exception as e:
            logger.exception("the Bot API emulator could not read a %s request", method)
            return self._crashed(journal.record(ApiCall(method, {})), e)
        # Recorded on arrival, so a long poll shows while it waits; the outcome is filled in after.
        call = ApiCall(method, params, files)
        index = journal.record(call)
        if self.faults.take_drop(method):
            return self._drop(request, index, "connection dropped")
        hold = self.faults.take_hold(call)
        if hold is not None:
            await journal.wait(lambda: hold.is_set() or self.state.closing, 3600)
            if request.transport is None or request.transport.is_closing():
                # The caller died while the call was held: it is never carried out.
                return self._drop(request, index, "caller gone")
        try:
            result = await self._hooked(self.call_hooks, call, lambda: self._answer(call))
        except ApiError as e:
            journal.calls[index] = replace(call, error=e.description)
            journal.changed()
            return error_response(e)
        except Exception as e:
            logger.exception("the Bot API emulator failed on %s", method)
            return self._crashed(index, e)
        journal.changed()
        return ok_response(result)

    @staticmethod
    async def _hooked(hooks: list[Any], subject: Any, proceed: Proceed) -> Any:
        """`proceed()` inside every hook, the first hook outermost."""
        for hook in reversed(hooks):
            proceed = _wrapped(hook, subject, proceed)
        return await proceed()

    async def _answer(self, call: ApiCall) -> Any:
        method = METHODS.get(call.method)
        if method is None:
            raise ApiError(404, "Not Found")
        if fault := self.faults.take_error(call.method):
            raise fault
        if self.limits is not None:
            self.limits.admit(call.method, call.params)
        result = await method(self.state, call.params, call.files)
        if self.limits is not None:
            self.limits.count(call.method, call.params)
        return result

    def _crashed(self, index: int, error: Exception) -> web.Response:
        """A 500 for a bug or a protocol surprise, kept in `errors` for the test to see."""
        journal = self.state.journal
        description = f"Internal Server Error: {error}"
        journal.errors.append(f"{journal.calls[index].method}: {error!r}")
        journal.calls[index] = replace(journal.calls[index], error=description)
        journal.changed()
        return error_response(ApiError(500, description))

    def _drop(self, request: web.Request, index: int, reason: str) -> web.Response:
        journal = self.state.journal
        journal.calls[index] = replace(journal.calls[index], error=reason)
        journal.changed()
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)  # never reaches the caller

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        response: web.Response = await self._hooked(
            self.download_hooks, path, lambda: self._serve_file(path)
        )
        return response

    async def _serve_file(self, path: str) -> web.Response:
        stored = self.state.files.by_path.get(path)
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        self.state.journal.downloads.append(stored.path)
        self.state.journal.changed()
        return web.Response(body=stored.data, content_type="application/octet-stream")


def _wrapped(
    hook: Callable[[Any, Proceed], Awaitable[Any]], subject: Any, inner: Proceed
) -> Proceed:
    return lambda: hook(subject, inner)
