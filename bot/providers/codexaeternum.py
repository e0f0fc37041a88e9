"""CodexAeternum: generation and describe, with an email and a secret token exchanged for a
session token that is kept with the credential."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from bot.config import Settings
from bot.providers.description import PROBE_RETRY, ClientContext, ProviderDescription
from services.base import Credential
from services.codexaeternum import CodexAeternumClient, CodexAeternumCredential, SessionTokenStore
from services.registry import Providers


def _client(context: ClientContext) -> CodexAeternumClient:
    return CodexAeternumClient(
        context.session,
        base_url=context.settings.codexaeternum_url,
        token_store=context.storage.tokens,
        observer=context.observer,
    )


def _operator(settings: Settings) -> Credential | None:
    if not (settings.codexaeternum_email and settings.codexaeternum_secret):
        return None
    return CodexAeternumCredential.from_parts(
        [settings.codexaeternum_email, settings.codexaeternum_secret.get_secret_value()]
    )


async def _key_check(providers: Providers, credential: Credential) -> None:
    assert isinstance(credential, CodexAeternumCredential)
    await providers.codexaeternum.exchange_token(credential)


async def _probe(
    settings: Settings,
    http: aiohttp.ClientSession,
    credential: Credential,
    timeout: aiohttp.ClientTimeout,
) -> str:
    assert isinstance(credential, CodexAeternumCredential)
    client = CodexAeternumClient(
        http, base_url=settings.codexaeternum_url, timeout=timeout, retry=PROBE_RETRY
    )
    await client.exchange_token(credential)  # its token cache is in memory, gone at exit
    return "email and secret accepted (token exchange)"


async def _forget_session(tokens: SessionTokenStore, parts: Sequence[str]) -> None:
    await tokens.delete(CodexAeternumCredential.from_parts(parts).cache_key())


CODEXAETERNUM = ProviderDescription(
    id=CodexAeternumClient.name,
    display_name="CodexAeternum",
    credential=CodexAeternumCredential,
    setkey_words="you@example.com SECRET_TOKEN",
    build=_client,
    operator_settings=("codexaeternum_email", "codexaeternum_secret"),
    operator_credential=_operator,
    url_setting="codexaeternum_url",
    credential_word="email or secret token",
    generate_rank=1,
    describe_rank=1,
    options=CodexAeternumClient.options,
    key_check=_key_check,
    probe=_probe,
    forget_session=_forget_session,
)
