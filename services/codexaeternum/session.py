"""The token exchange, and calls made with a session token that is renewed once if rejected."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.codexaeternum.credential import PROVIDER, CodexAeternumCredential
from services.codexaeternum.tokens import SessionTokenStore
from services.exceptions import AuthError, UnexpectedResponseError
from services.http import HttpClient

logger = logging.getLogger(__name__)

EXCHANGE_PATH = "/login/tokenexchange/"
_EXCHANGE_REJECTED = (400, 401, 403)
"""Statuses with which the token exchange refuses an email + secret token."""


T = TypeVar("T")


class SessionTokens:
    """Session tokens per credential: exchanged once, cached, exchanged again when rejected."""

    def __init__(self, http: HttpClient, store: SessionTokenStore) -> None:
        self._http = http
        self._tokens = store
        # One lock per credential while someone uses it, so concurrent calls exchange once.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def exchange(self, credential: CodexAeternumCredential) -> str:
        """Exchange the credential for a new session token now, cache it and return it."""
        key = credential.cache_key()
        async with self._lock(key):
            token = await self._exchange(credential)
            await self._tokens.set(key, token)
            return token

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def authenticated(
        self,
        credential: CodexAeternumCredential,
        call: Callable[[str], Awaitable[T]],
    ) -> T:
        """`call` with the session token; on 401/403 exchange again once and call again once."""
        token = await self._session_token(credential)
        try:
            return await call(token)
        except AuthError as e:
            # A 401/403 means the request was refused, so even a paid call may be sent again.
            logger.info("%s session token rejected (HTTP %d); exchanging again", PROVIDER, e.status)
        token = await self._session_token(credential, stale=token)
        return await call(token)

    async def _session_token(
        self, credential: CodexAeternumCredential, *, stale: str | None = None
    ) -> str:
        """The cached token, or a new one; `stale` is a token just rejected, never returned."""
        key = credential.cache_key()
        async with self._lock(key):
            token = await self._tokens.get(key)
            if token is not None and token != stale:
                # Either never rejected, or another call already exchanged it again.
                return token
            if token is not None:
                await self._tokens.delete(key)
            token = await self._exchange(credential)
            await self._tokens.set(key, token)
            return token

    async def _exchange(self, credential: CodexAeternumCredential) -> str:
        response = await self._http.request(
            "POST",
            EXCHANGE_PATH,
            safe=True,  # Not paid: an exchange repeated only makes another token.
            accept=(200, 201, *_EXCHANGE_REJECTED),
            form={"stoken": credential.secret, "email": credential.email},
        )
        if response.status in _EXCHANGE_REJECTED:
            raise AuthError(
                f"the email or secret token was rejected (HTTP {response.status})",
                provider=PROVIDER,
                status=response.status,
            )
        token = response.json_object().get("session_token")
        if not isinstance(token, str) or not token.strip():
            raise UnexpectedResponseError(
                f"{response.where} answered without a session_token",
                provider=PROVIDER,
                status=response.status,
            )
        logger.debug("%s session token exchanged", PROVIDER)
        return token
