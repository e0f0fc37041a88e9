"""AiLuna: generation and a gallery, with an API key."""

from __future__ import annotations

import aiohttp
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.providers.description import (
    PROBE_RETRY,
    ClientContext,
    OptionPreference,
    ProviderDescription,
)
from services.ailuna import AiLunaClient, AiLunaCredential
from services.base import Credential
from services.registry import Providers

KEY_CHECK_PAGE = 10
"""The gallery page size of the free call that checks a key."""


def _client(context: ClientContext) -> AiLunaClient:
    return AiLunaClient(
        context.session, base_url=context.settings.ailuna_url, observer=context.observer
    )


def _operator(settings: Settings) -> Credential | None:
    if not settings.ailuna_api_key:
        return None
    return AiLunaCredential(settings.ailuna_api_key.get_secret_value())


async def _key_check(providers: Providers, credential: Credential) -> None:
    assert isinstance(credential, AiLunaCredential)
    await providers.ailuna.list_images(credential, per_page=KEY_CHECK_PAGE)


async def _probe(
    settings: Settings,
    http: aiohttp.ClientSession,
    credential: Credential,
    timeout: aiohttp.ClientTimeout,
) -> str:
    assert isinstance(credential, AiLunaCredential)
    client = AiLunaClient(http, base_url=settings.ailuna_url, timeout=timeout, retry=PROBE_RETRY)
    page = await client.list_images(credential, per_page=KEY_CHECK_PAGE)
    count = page.total if page.total is not None else len(page.items)
    return f"key accepted ({count} images in the gallery)"


AILUNA = ProviderDescription(
    id=AiLunaClient.name,
    display_name="AiLuna",
    credential=AiLunaCredential,
    setkey_words="API_KEY",
    build=_client,
    operator_settings=("ailuna_api_key",),
    operator_credential=_operator,
    url_setting="ailuna_url",
    generate_rank=2,
    options=AiLunaClient.options,
    option_preferences=(
        OptionPreference("res", "res", lambda: _("AiLuna resolution")),
        OptionPreference("style", "style", lambda: _("AiLuna style")),
        OptionPreference("medium", "medium", lambda: _("AiLuna medium")),
        OptionPreference("filter", "filter", lambda: _("AiLuna filter")),
    ),
    key_check=_key_check,
    probe=_probe,
)
