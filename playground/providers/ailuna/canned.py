"""Scripted answers that replace the fake's normal ones: errors, hangs, cut connections."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Canned:
    """A scripted answer that takes the place of the next normal one on its route."""

    status: int = 500
    body: bytes = b'{"message": "Server Error"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    hang: bool = False
    """Never answer (until the server shuts down), so the client times out."""
    cut: bool = False
    """Close the connection without an answer."""

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Canned:
        """A JSON answer with this status."""
        return cls(
            status=status,
            body=json.dumps(value).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )


def server_error(status: int = 500) -> Canned:
    """A Laravel server error."""
    return Canned.json(status, {"message": "Server Error"})


def rate_limited(retry_after: str = "0") -> Canned:
    """Laravel's throttle answer."""
    return Canned.json(429, {"message": "Too Many Attempts."}, {"Retry-After": retry_after})


def plan_limit(status: int = 403) -> Canned:
    """The account's plan does not allow more images."""
    return Canned.json(
        status, {"message": "You have reached the images limit of your plan. Upgrade to continue."}
    )


def forbidden() -> Canned:
    """A plain 403 that says nothing about the plan."""
    return Canned.json(403, {"message": "This action is unauthorized."})


def malformed() -> Canned:
    """A 200 whose JSON is cut off."""
    return Canned(status=200, body=b'{"data": {"id": 1, "name": ')


def hang() -> Canned:
    """No answer at all."""
    return Canned(hang=True)


def cut() -> Canned:
    """The connection closed without an answer."""
    return Canned(cut=True)
