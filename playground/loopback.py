"""Serving an aiohttp app on 127.0.0.1, the only address the playground listens on."""

from __future__ import annotations

from aiohttp import web


class LocalSite:
    """One app served on 127.0.0.1 (port 0: a free one) until `close()`."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        # Long polls and event streams are cancelled at shutdown instead of awaited.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)

    async def start(self, port: int = 0) -> str:
        """Start serving; the base URL."""
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def close(self) -> None:
        """Stop serving and drop open connections."""
        await self._runner.cleanup()
