"""CodexAeternum's name and its credential: the login email and the secret token."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import ClassVar, Self

from services.base import Credential, CredentialFormatError, mask

PROVIDER = "codexaeternum"


class CodexAeternumCredential(Credential):
    """A CodexAeternum account: the login email and the secret token from the profile page."""

    provider: ClassVar[str] = PROVIDER
    fields: ClassVar[tuple[str, ...]] = ("email", "secret")
    __slots__ = ("email", "secret")

    def __init__(self, email: str, secret: str) -> None:
        self.email = email
        self.secret = secret

    @classmethod
    def from_parts(cls, parts: Sequence[str]) -> Self:
        if len(parts) != 2:
            raise CredentialFormatError(f"{cls.provider} needs an email and a secret token")
        email, secret = parts
        if not _plausible_email(email):
            raise CredentialFormatError(f"{cls.provider}: the email does not look valid")
        if not secret or any(c.isspace() for c in secret):
            raise CredentialFormatError(f"{cls.provider}: the secret token must have no spaces")
        return cls(email, secret)

    def to_parts(self) -> tuple[str, ...]:
        return (self.email, self.secret)

    def masked(self) -> str:
        return f"{self.email} {mask(self.secret)}"

    def cache_key(self) -> str:
        """The session-token cache key: a hash, so the store never learns the secret."""
        return hashlib.sha256(f"{self.email}\0{self.secret}".encode()).hexdigest()


def _plausible_email(email: str) -> bool:
    """One "@" with text before it, a dot inside the domain, no spaces."""
    local, _, domain = email.partition("@")
    return (
        bool(local)
        and "@" not in domain
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and not any(c.isspace() for c in email)
    )
