"""Where the fakes spent their time: one span per request they served, by user."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from playground.providers.server import Handler

USER = web.RequestKey("bench_user", int)
"""Request key under which a fake's wrapper names the user a request was made for."""


def now() -> float:
    """The benchmark's one clock (seconds, monotonic, this process)."""
    return time.perf_counter()


@dataclass(frozen=True, slots=True)
class Span:
    """Time a fake spent on behalf of one user: a request it served, or a provider job running."""

    user: int
    source: str
    name: str
    start: float
    end: float


class Spans:
    """Every span of the run, by user, and every request each fake received, by route."""

    def __init__(self) -> None:
        self._by_user: dict[int, list[Span]] = {}
        self.requests: Counter[str] = Counter()
        """"source route" -> requests received, attributed to a user or not."""

    def add(self, span: Span) -> None:
        """Record a span."""
        self._by_user.setdefault(span.user, []).append(span)

    def of(self, user: int) -> list[Span]:
        """The spans of one user, in the order they ended."""
        return self._by_user.get(user, [])

    def count(self, users: Iterable[int], source: str) -> int:
        """How many spans of these users came from `source` (jobs windows included)."""
        return sum(1 for user in users for span in self.of(user) if span.source == source)

    def middleware(self, source: str) -> Middleware:
        """An outermost middleware timing each request; inner wrappers set `request[USER]`."""

        @web.middleware
        async def clock(request: web.Request, handler: Handler) -> web.StreamResponse:
            start = now()
            try:
                return await handler(request)
            finally:
                route = request.match_info.route.resource
                name = route.canonical if route is not None else request.path
                self.requests[f"{source} {request.method} {name}"] += 1
                user = request.get(USER)
                if isinstance(user, int):
                    self.add(Span(user, source, name, start, now()))

        return clock
