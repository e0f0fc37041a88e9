"""Provider clients and the operator's credentials, built from the settings."""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.storage import Storage
from services.ailuna import AiLunaClient, AiLunaCredential
from services.base import Credential
from services.codexaeternum import CodexAeternumClient, CodexAeternumCredential
from services.describepicture import (
    DescribePictureClient,
    DescribePictureCredential,
    HourlyQuota,
)
from services.gptunnel import GPTunnelClient, GPTunnelCredential
from services.http import RequestObserver
from services.registry import Providers

DISPLAY_NAMES = {
    "gptunnel": "GPTunnel",
    "codexaeternum": "CodexAeternum",
    "ailuna": "AiLuna",
    "describepicture": "DescribePicture",
}


def display_name(provider: str) -> str:
    """How a provider's name is written for users."""
    return DISPLAY_NAMES.get(provider, provider)


def build_providers(
    settings: Settings,
    session: aiohttp.ClientSession,
    *,
    storage: Storage,
    observer: RequestObserver | None = None,
) -> Providers:
    """One client per provider, sharing the HTTP session; tokens and quotas kept in storage."""
    return Providers(
        gptunnel=GPTunnelClient(
            session,
            base_url=settings.gptunnel_url,
            model=settings.gptunnel_model,
            observer=observer,
        ),
        codexaeternum=CodexAeternumClient(
            session,
            base_url=settings.codexaeternum_url,
            token_store=storage.tokens,
            observer=observer,
        ),
        ailuna=AiLunaClient(session, base_url=settings.ailuna_url, observer=observer),
        describepicture=DescribePictureClient(
            session,
            base_url=settings.describepicture_url,
            encryption_key=settings.describepicture_key_bytes,
            quota=HourlyQuota(storage.quota),
            observer=observer,
        ),
    )


def operator_credentials(settings: Settings) -> dict[str, Credential]:
    """The operator's credentials from the settings, by provider name (only those set)."""
    found: dict[str, Credential] = {}
    if settings.gptunnel_api_key:
        found["gptunnel"] = GPTunnelCredential(settings.gptunnel_api_key.get_secret_value())
    if settings.codexaeternum_email and settings.codexaeternum_secret:
        found["codexaeternum"] = CodexAeternumCredential.from_parts(
            [settings.codexaeternum_email, settings.codexaeternum_secret.get_secret_value()]
        )
    if settings.ailuna_api_key:
        found["ailuna"] = AiLunaCredential(settings.ailuna_api_key.get_secret_value())
    if settings.describepicture_app_id:
        found["describepicture"] = DescribePictureCredential(
            settings.describepicture_app_id.get_secret_value()
        )
    return found


def log_secrets(settings: Settings) -> list[str]:
    """Every secret value of the settings, for the log redaction filter: the bot token, the
    operator's credentials, KEYS_SECRET and WEBHOOK_SECRET."""
    secrets = [settings.bot_token.get_secret_value()]
    secrets += [part for c in operator_credentials(settings).values() for part in c.to_parts()]
    for optional in (settings.keys_secret, settings.webhook_secret):
        if optional is not None:
            secrets.append(optional.get_secret_value())
    return secrets
