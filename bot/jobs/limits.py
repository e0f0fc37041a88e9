"""Concurrency limits: requests in flight per provider credential; jobs per user (a number)."""

from __future__ import annotations

import asyncio
import hashlib
import weakref

from services.base import Credential


class Limits:
    """Semaphores created on demand and dropped when nobody holds or waits on them."""

    def __init__(self, *, user_max_jobs: int, provider_max_concurrency: int) -> None:
        self.user_max_jobs = user_max_jobs
        self._provider_max = provider_max_concurrency
        self._credentials: weakref.WeakValueDictionary[str, asyncio.Semaphore] = (
            weakref.WeakValueDictionary()
        )

    def provider(self, provider: str, credential: Credential) -> asyncio.Semaphore:
        """Requests in flight to one provider with one credential (the operator's counts once)."""
        digest = hashlib.sha256("\0".join(credential.to_parts()).encode()).hexdigest()
        key = f"{provider}:{digest}"
        semaphore = self._credentials.get(key)
        if semaphore is None:
            semaphore = asyncio.Semaphore(self._provider_max)
            self._credentials[key] = semaphore
        return semaphore
