"""Injected failures: error answers, dropped connections and calls held unanswered."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass

from playground.telegram.errors import ApiError
from playground.telegram.wire import ApiCall


@dataclass(frozen=True, slots=True)
class _Hold:
    method: str
    where: Callable[[ApiCall], bool] | None
    release: asyncio.Event


class Faults:
    """What the next calls of a method meet instead of a normal answer."""

    def __init__(self, methods: Collection[str]) -> None:
        self._methods = methods
        self._errors: dict[str, deque[ApiError]] = {}
        self._drops: dict[str, int] = {}
        self._holds: list[_Hold] = []

    def _known(self, method: str) -> None:
        if method not in self._methods:
            raise ValueError(f"the emulator does not implement {method}")

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` answer this error instead of working."""
        self._known(method)
        queue = self._errors.setdefault(method, deque())
        queue.extend(
            ApiError(error_code, description, retry_after=retry_after) for _ in range(times)
        )

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` get no answer: the connection is closed."""
        self._known(method)
        self._drops[method] = self._drops.get(method, 0) + times

    def hold_next(
        self, method: str, *, where: Callable[[ApiCall], bool] | None = None
    ) -> asyncio.Event:
        """The next matching call is recorded, then waits unanswered until the event is set.

        A held call whose caller has gone by then (a killed process) is never carried out.
        """
        self._known(method)
        release = asyncio.Event()
        self._holds.append(_Hold(method, where, release))
        return release

    def take_error(self, method: str) -> ApiError | None:
        """The error this call answers instead of working, if one is queued."""
        queue = self._errors.get(method)
        return queue.popleft() if queue else None

    def take_drop(self, method: str) -> bool:
        """Whether this call's connection is to be dropped."""
        if not self._drops.get(method):
            return False
        self._drops[method] -= 1
        return True

    def take_hold(self, call: ApiCall) -> asyncio.Event | None:
        """The event that releases this call, if it is to be held."""
        for hold in self._holds:
            if hold.method == call.method and (hold.where is None or hold.where(call)):
                self._holds.remove(hold)
                return hold.release
        return None
