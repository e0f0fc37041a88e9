"""Where session tokens are cached between calls."""

from __future__ import annotations

from typing import Protocol


class SessionTokenStore(Protocol):
    """Where session tokens are cached between calls, keyed by `cache_key()`."""

    async def get(self, key: str) -> str | None:
        """The cached token, or None."""

    async def set(self, key: str, token: str) -> None:
        """Cache a token, replacing any previous one."""

    async def delete(self, key: str) -> None:
        """Forget a token; no error if there is none."""


class MemorySessionTokenStore:
    """A SessionTokenStore in process memory, lost on restart."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        """The cached token, or None."""
        return self._tokens.get(key)

    async def set(self, key: str, token: str) -> None:
        """Cache a token, replacing any previous one."""
        self._tokens[key] = token

    async def delete(self, key: str) -> None:
        """Forget a token; no error if there is none."""
        self._tokens.pop(key, None)
