"""A minimal loopback Bot API: enough for the bot process to start and long-poll."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Iris", "username": "iris_test_bot"}


class FakeBotApi:
    """Answers getMe, deleteWebhook and getUpdates for one token; records method calls."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[str] = []
        self.polled = asyncio.Event()

    def app(self) -> web.Application:
        """The aiohttp app serving /bot<token>/<method>."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        self.calls.append(method)
        result: Any
        if method == "getMe":
            result = BOT_USER
        elif method == "getUpdates":
            self.polled.set()
            result = []
        else:
            result = True
        return web.json_response({"ok": True, "result": result})
