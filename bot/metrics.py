"""Prometheus metrics: provider latency and errors as they happen, jobs and users at scrape time."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.storage import Storage

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)


class Metrics:
    """One registry per process (not the global one), so tests can build several."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.provider_seconds = Histogram(
            "iris_provider_request_seconds",
            "Provider HTTP requests by provider and outcome (2xx… or timeout, connect_error…)",
            ["provider", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.provider_errors = Counter(
            "iris_provider_errors_total",
            "Provider requests that did not end in 2xx, by provider and outcome",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.jobs = Gauge(
            "iris_jobs",
            "Jobs stored, by provider, kind and state (all time)",
            ["provider", "kind", "state"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "iris_queue_depth",
            "Jobs waiting for a slot of their user, in the whole bot",
            registry=self.registry,
        )
        self.running_jobs = Gauge(
            "iris_running_jobs", "Jobs with a task in this process", registry=self.registry
        )
        self.uploads_waiting = Gauge(
            "iris_uploads_waiting",
            "Results obtained and kept, waiting for a slot to be sent to Telegram",
            registry=self.registry,
        )
        self.active_users = Gauge(
            "iris_active_users",
            "Users who started a job in the last 24 hours",
            registry=self.registry,
        )

    def observe_request(self, *, provider: str, outcome: str, seconds: float) -> None:
        """The services' HTTP layer reports every attempt here."""
        self.provider_seconds.labels(provider, outcome).observe(seconds)
        if outcome != "2xx":
            self.provider_errors.labels(provider, outcome).inc()

    async def render(self, storage: Storage, *, running: int, uploads_waiting: int) -> bytes:
        """The exposition text, with the gauges read from the database now."""
        self.jobs.clear()
        for count in await storage.jobs.counts():
            self.jobs.labels(count.provider, count.kind, count.state).set(count.count)
        self.active_users.set(await storage.jobs.users_since(time.time() - 24 * 3600))
        self.queue_depth.set(await storage.lines.waiting())
        self.running_jobs.set(running)
        self.uploads_waiting.set(uploads_waiting)
        return generate_latest(self.registry)
