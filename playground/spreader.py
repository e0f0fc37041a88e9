"""A round-robin load balancer on 127.0.0.1 in front of instances in webhook mode, as a proxy
spreads Telegram's webhook requests over them (the fleet tests and the benchmark)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import web

from playground.telegram.webhook import SECRET_HEADER


class Spreader:
    """Each webhook POST on `path` goes to the next instance in turn (the same path on one of
    `ports`), or past it to the one after when it refuses the connection (its health check
    failing, or not listening yet)."""

    def __init__(self, ports: list[int], *, path: str) -> None:
        self.ports = ports
        self.path = path
        self.taken: list[tuple[int, dict[str, Any]]] = []
        """Which instance answered which update (2xx), in order."""
        self.skipped: list[int] = []
        """The instances passed over, one entry per refused connection."""
        self._next = 0
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        """The aiohttp app taking Telegram's POSTs on `path`."""
        app = web.Application()
        app.router.add_post(self.path, self._forward)
        app.on_cleanup.append(self._close)
        return app

    def taker(self, text: str) -> int:
        """The instance that answered the message update with this text."""
        takers = [i for i, u in self.taken if u.get("message", {}).get("text") == text]
        assert len(takers) == 1, f"{text!r} was taken {len(takers)} times"
        return takers[0]

    async def _forward(self, request: web.Request) -> web.Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        for _ in self.ports:
            index = self._next
            self._next = (index + 1) % len(self.ports)
            url = f"http://127.0.0.1:{self.ports[index]}{self.path}"
            try:
                async with self._session.post(url, data=body, headers=headers) as response:
                    status, answer = response.status, await response.read()
            except aiohttp.ClientConnectionError:
                self.skipped.append(index)
                continue
            if 200 <= status < 300:
                self.taken.append((index, json.loads(body)))
            return web.Response(status=status, body=answer)
        return web.Response(status=502, text="no instance is up")

    async def _close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
