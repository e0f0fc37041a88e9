"""What the bot knows about one provider besides its client: one frozen description each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import Settings
from bot.storage import Storage
from services.base import Credential, ImageDescriber, ImageGenerator, OptionSpec
from services.codexaeternum import SessionTokenStore
from services.http import RequestObserver, RetryPolicy
from services.registry import Providers

ProviderClient = ImageGenerator[Any] | ImageDescriber[Any]

PROBE_RETRY = RetryPolicy(attempts=1)
"""The check's calls are tried once: a failing check must answer quickly."""


@dataclass(frozen=True, slots=True)
class ClientContext:
    """What building a provider's client may use."""

    settings: Settings
    session: aiohttp.ClientSession
    storage: Storage
    observer: RequestObserver | None


ClientFactory = Callable[[ClientContext], ProviderClient]
"""The provider's client for the bot, sharing the HTTP session."""
KeyCheck = Callable[[Providers, Credential], Awaitable[None]]
"""A free call /setkey makes with a new credential; AuthError if the provider rejects it."""
Probe = Callable[
    [Settings, aiohttp.ClientSession, Credential, aiohttp.ClientTimeout], Awaitable[str]
]
"""`check --providers`: one free authenticated call with the operator's credential; what it
showed, or a raise."""
SessionHook = Callable[[SessionTokenStore, Sequence[str]], Awaitable[None]]
"""Forgets what the provider's session kept for a credential (given as its stored parts)."""


@dataclass(frozen=True, slots=True)
class OptionPreference:
    """A provider option whose default a user picks in /settings."""

    code: str
    """Its name in button data: short, so every button stays under Telegram's 64 bytes."""
    option: str
    title: Callable[[], str]
    """The menu entry, in the current language."""


@dataclass(frozen=True, slots=True)
class ProviderDescription:
    """One provider as the bot lists, configures, checks and offers it."""

    id: str
    """The provider's name in commands, storage and its client's `name`."""
    display_name: str
    credential: type[Credential]
    """Parses `/setkey` arguments (`from_parts`) and masks the stored credential (`masked`)."""
    setkey_words: str
    """What follows `/setkey <id>` in the usage example, e.g. "API_KEY"."""
    build: ClientFactory
    operator_settings: tuple[str, ...]
    """The Settings fields that hold the operator's credential, in `from_parts` order."""
    operator_credential: Callable[[Settings], Credential | None]
    """The operator's credential from the settings, or None when they are not set."""
    url_setting: str
    """The Settings field with the provider's base URL."""
    credential_word: str = "key"
    """How the credential is called in a failed check's line."""
    generate_rank: int | None = None
    """Position in the default generation order (0 first); None: it does not generate."""
    describe_rank: int | None = None
    """Position in the default describe order (0 first); None: it does not describe."""
    options: tuple[OptionSpec, ...] = ()
    """The generation options the provider declares."""
    option_preferences: tuple[OptionPreference, ...] = ()
    key_check: KeyCheck | None = None
    probe: Probe | None = None
    no_probe_reason: str = "no free call"
    """Why `check --providers` does not call the provider, when it has no probe."""
    forget_session: SessionHook | None = None
    """Run when a user's credential is replaced or removed."""

    @property
    def setting_names(self) -> str:
        """The operator settings as the environment names them, e.g. "GPTUNNEL_API_KEY"."""
        return "/".join(name.upper() for name in self.operator_settings)

    @property
    def setkey_usage(self) -> str:
        """The `/setkey` example for this provider."""
        return f"<code>/setkey {self.id} {self.setkey_words}</code>"
