"""Every provider's description, and what is built from them: clients, operator credentials,
default orders, names shown to users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp

from bot.config import Settings
from bot.providers.ailuna import AILUNA
from bot.providers.codexaeternum import CODEXAETERNUM
from bot.providers.describepicture import DESCRIBEPICTURE
from bot.providers.description import ClientContext, ProviderDescription
from bot.providers.gptunnel import GPTUNNEL
from bot.storage import Storage
from services.base import Credential
from services.http import RequestObserver
from services.registry import Providers

PROVIDERS: tuple[ProviderDescription, ...] = (GPTUNNEL, CODEXAETERNUM, AILUNA, DESCRIBEPICTURE)
"""Every provider, in the order lists show them (/keys, /help, /balance, the check)."""
BY_ID: dict[str, ProviderDescription] = {provider.id: provider for provider in PROVIDERS}


def _in_order(rank: Callable[[ProviderDescription], int | None]) -> tuple[str, ...]:
    """The providers with a rank, first rank first."""
    ranked = sorted((r, provider.id) for provider in PROVIDERS if (r := rank(provider)) is not None)
    return tuple(name for _rank, name in ranked)


GENERATE_ORDER = _in_order(lambda provider: provider.generate_rank)
"""The providers that generate, the default first (SPEC)."""
DESCRIBE_ORDER = _in_order(lambda provider: provider.describe_rank)
"""The providers that describe, the default first (SPEC)."""


def display_name(provider: str) -> str:
    """How a provider's name is written for users."""
    description = BY_ID.get(provider)
    return description.display_name if description else provider


def build_providers(
    settings: Settings,
    session: aiohttp.ClientSession,
    *,
    storage: Storage,
    observer: RequestObserver | None = None,
) -> Providers:
    """One client per provider, sharing the HTTP session; tokens and quotas kept in storage."""
    context = ClientContext(settings, session, storage, observer)
    clients: dict[str, Any] = {provider.id: provider.build(context) for provider in PROVIDERS}
    return Providers(**clients)


def operator_credentials(settings: Settings) -> dict[str, Credential]:
    """The operator's credentials from the settings, by provider name (only those set)."""
    found: dict[str, Credential] = {}
    for provider in PROVIDERS:
        credential = provider.operator_credential(settings)
        if credential is not None:
            found[provider.id] = credential
    return found


def log_secrets(settings: Settings) -> list[str]:
    """Every secret value of the settings, for the log redaction filter: the bot token, the
    operator's credentials, KEYS_SECRET, WEBHOOK_SECRET and DATABASE_URL (and its password)."""
    secrets = [settings.bot_token.get_secret_value()]
    secrets += [part for c in operator_credentials(settings).values() for part in c.to_parts()]
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        password = urlsplit(url).password or ""
        secrets += [url, password, unquote(password)]
    for optional in (settings.keys_secret, settings.webhook_secret):
        if optional is not None:
            secrets.append(optional.get_secret_value())
    return secrets
