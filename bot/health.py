"""The operator's endpoints on METRICS_HOST:METRICS_PORT: /healthz and Prometheus /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.jobs.runner import JobRunner
from bot.metrics import Metrics
from bot.storage import Storage

logger = logging.getLogger(__name__)

TELEGRAM_FRESH = 120.0
"""A Bot API call that succeeded this recently shows Telegram is reachable; else getMe asks."""
CHECK_TIMEOUT = 5.0


class HealthServer:
    """A small aiohttp server, separate from the webhook, so it can stay on a private address."""

    def __init__(
        self,
        *,
        storage: Storage,
        runner: JobRunner,
        metrics: Metrics,
        telegram_last_ok: Callable[[], float | None],
        ping_telegram: Callable[[], Awaitable[object]],
    ) -> None:
        self._storage = storage
        self._runner = runner
        self._metrics = metrics
        self._telegram_last_ok = telegram_last_ok
        self._ping_telegram = ping_telegram
        self._site_runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The application serving /healthz and /metrics."""
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def start(self, host: str, port: int) -> None:
        """Serve on host:port."""
        self._site_runner = web.AppRunner(self.app(), access_log=None)
        await self._site_runner.setup()
        await web.TCPSite(self._site_runner, host, port).start()
        logger.info("health and metrics on http://%s:%d", host, port)

    async def stop(self) -> None:
        """Stop serving."""
        if self._site_runner is not None:
            await self._site_runner.cleanup()
            self._site_runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the database is writable, Telegram reachable and the job runner alive."""
        checks = {
            "database": await self._check(self._database),
            "telegram": await self._check(self._telegram),
            "job_runner": "ok" if self._runner.started and not self._runner.stopping else "stopped",
        }
        healthy = all(value == "ok" for value in checks.values())
        body = {"status": "ok" if healthy else "fail", "checks": checks}
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps(body),
            content_type="application/json",
        )

    async def metrics(self, request: web.Request) -> web.Response:
        """The Prometheus exposition."""
        body = await self._metrics.render(
            self._storage,
            running=self._runner.running,
            uploads_waiting=self._runner.uploads_waiting,
        )
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _database(self) -> None:
        await self._storage.db.check_writable()

    async def _telegram(self) -> None:
        last_ok = self._telegram_last_ok()
        if last_ok is None or time.monotonic() - last_ok > TELEGRAM_FRESH:
            await self._ping_telegram()

    @staticmethod
    async def _check(probe: Callable[[], Awaitable[None]]) -> str:
        try:
            await asyncio.wait_for(probe(), CHECK_TIMEOUT)
        except TimeoutError:
            return "timeout"
        except Exception as e:  # noqa: BLE001 - any failure of a probe is an unhealthy answer
            return f"error: {type(e).__name__}"
        return "ok"
