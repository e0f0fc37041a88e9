"""Generation requests offered in inline results, kept in memory under short tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

KEPT_REQUESTS = 10_000
"""Requests kept for a ▶️ press; the oldest go first (a press then asks to type again)."""


@dataclass(frozen=True, slots=True)
class InlineRequest:
    """What one "Generate" result offers: a prompt on a provider with checked options."""

    user_id: int
    provider: str
    prompt: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """16 URL-safe characters naming the request: the same request, the same token (a
        result chosen after a restart is found again from its query)."""
        raw = json.dumps(
            [self.user_id, self.provider, self.prompt, sorted(self.options.items())],
            ensure_ascii=False,
        )
        digest = hashlib.sha256(raw.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode()[:16]


class PendingRequests:
    """The requests of recent inline answers, by token, at most KEPT_REQUESTS of them."""

    def __init__(self, size: int = KEPT_REQUESTS) -> None:
        self._size = size
        self._requests: OrderedDict[str, InlineRequest] = OrderedDict()

    def keep(self, request: InlineRequest) -> str:
        """Remember the request; its token."""
        token = request.token
        self._requests[token] = request
        self._requests.move_to_end(token)
        if len(self._requests) > self._size:
            self._requests.popitem(last=False)
        return token

    def get(self, token: str) -> InlineRequest | None:
        """The request, if it is still kept."""
        return self._requests.get(token)
