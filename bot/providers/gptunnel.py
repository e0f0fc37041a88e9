"""GPTunnel: generation (Imagen 3) with an API key."""

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
from services.base import Credential
from services.exceptions import BadRequestError, NotFoundError
from services.gptunnel import GPTunnelClient, GPTunnelCredential

PROBE_TASK_ID = "0" * 24
"""A made-up GPTunnel task id: well formed, so only the key and the lookup can fail."""


def _client(context: ClientContext) -> GPTunnelClient:
    settings = context.settings
    return GPTunnelClient(
        context.session,
        base_url=settings.gptunnel_url,
        model=settings.gptunnel_model,
        observer=context.observer,
    )


def _operator(settings: Settings) -> Credential | None:
    if not settings.gptunnel_api_key:
        return None
    return GPTunnelCredential(settings.gptunnel_api_key.get_secret_value())


async def _probe(
    settings: Settings,
    http: aiohttp.ClientSession,
    credential: Credential,
    timeout: aiohttp.ClientTimeout,
) -> str:
    assert isinstance(credential, GPTunnelCredential)
    client = GPTunnelClient(
        http,
        base_url=settings.gptunnel_url,
        model=settings.gptunnel_model,
        timeout=timeout,
        retry=PROBE_RETRY,
    )
    try:
        await client.result(credential, task_id=PROBE_TASK_ID)
    except (NotFoundError, BadRequestError) as e:
        # The body was well formed and the key was not the complaint (a refusal about the key
        # is an AuthError), so GPTunnel accepted the key and looked for the made-up task.
        answer = f"HTTP {e.status}" if e.status else "refused"
        return f"key accepted (the lookup of a made-up task answered {answer})"
    return "key accepted"


GPTUNNEL = ProviderDescription(
    id=GPTunnelClient.name,
    display_name="GPTunnel",
    credential=GPTunnelCredential,
    setkey_words="API_KEY",
    build=_client,
    operator_settings=("gptunnel_api_key",),
    operator_credential=_operator,
    url_setting="gptunnel_url",
    generate_rank=0,
    options=GPTunnelClient.options,
    option_preferences=(OptionPreference("ar", "ar", lambda: _("GPTunnel aspect ratio")),),
    probe=_probe,  # no free call for /setkey: its key is checked at first use
)
