"""Which credential a user's job runs with: their own, else the operator's, else none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.providers.description import ProviderDescription
from bot.storage.interfaces import Credentials, Credits
from services.base import Credential
from services.codexaeternum import SessionTokenStore

CredentialSource = Literal["own", "operator"]


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    """A credential and whose it is (the operator's are subject to limits)."""

    credential: Credential
    source: CredentialSource


class KeyChain:
    """Users' stored credentials (encrypted) with the operator's as the fallback."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        credits: Credits,
        tokens: SessionTokenStore,
        descriptions: Mapping[str, ProviderDescription],
        operator: Mapping[str, Credential],
    ) -> None:
        self._credentials = credentials
        self._credits = credits
        self._tokens = tokens
        self._descriptions = descriptions
        self._operator = operator

    async def resolve(self, user_id: int, provider: str) -> ResolvedCredential | None:
        """The credential a job of this user on this provider uses, or None."""
        parts = await self._credentials.get(user_id, provider)
        if parts is not None:
            return ResolvedCredential(
                self._descriptions[provider].credential.from_parts(parts), "own"
            )
        operator = self._operator.get(provider)
        return ResolvedCredential(operator, "operator") if operator else None

    async def sources(self, user_id: int) -> dict[str, CredentialSource]:
        """For every provider with a usable credential, whose it is."""
        own = await self._credentials.masked(user_id)
        found: dict[str, CredentialSource] = dict.fromkeys(self._operator, "operator")
        found.update(dict.fromkeys(own, "own"))
        return found

    async def masked(self, user_id: int) -> dict[str, str]:
        """The user's own credentials, masked, by provider."""
        return await self._credentials.masked(user_id)

    async def store(self, user_id: int, credential: Credential) -> None:
        """Keep the user's credential (encrypted at rest), replacing any earlier one."""
        await self._forget_session(user_id, credential.provider)
        await self._credentials.put(
            user_id, credential.provider, credential.to_parts(), masked=credential.masked()
        )

    async def remove(self, user_id: int, provider: str) -> bool:
        """Forget the user's credential and any session made with it; False if there was none."""
        await self._forget_session(user_id, provider)
        return await self._credentials.delete(user_id, provider)

    async def _forget_session(self, user_id: int, provider: str) -> None:
        # The old key's credits and session token say nothing about a new key (or none).
        await self._credits.forget(user_id, provider)
        description = self._descriptions.get(provider)
        if description is None or description.forget_session is None:
            return  # the provider keeps no session
        parts = await self._credentials.get(user_id, provider)
        if parts is not None:
            await description.forget_session(self._tokens, parts)
