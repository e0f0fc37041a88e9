"""Every provider description is complete, and every list of providers follows them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import aiohttp
import pytest

from bot.check import check_provider
from bot.config import Settings, load_settings
from bot.i18n import create_i18n
from bot.preferences import option_key
from bot.providers import (
    DESCRIBE_ORDER,
    GENERATE_ORDER,
    PROVIDERS,
    build_providers,
    operator_credentials,
)
from bot.providers.description import ProviderDescription
from bot.storage import open_storage
from handlers.keys.texts import setkey_usage
from handlers.settings.entries import BY_CODE
from services.base import ImageDescriber, ImageGenerator
from services.registry import Providers
from tests.checks import text_of
from tests.conftest import Serve
from tests.harness import (
    ALICE,
    CODEX_EMAIL,
    CODEX_SECRET,
    DESCRIBE_APP_ID,
    GPTUNNEL_KEY,
    TOKEN,
    iris_running,
)
from tests.test_bot_keys import answer_to

FAKES = Path(__file__).resolve().parent.parent / "playground" / "providers"
OPERATOR_VALUES = {
    "gptunnel": [GPTUNNEL_KEY],
    "codexaeternum": [CODEX_EMAIL, CODEX_SECRET],
    "ailuna": ["luna-operator-key-0123456789"],
    "describepicture": [DESCRIBE_APP_ID],
}
"""A valid operator credential per provider, in the order of its settings."""

ids = pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)


def settings_for(tmp_path: Path, **values: str) -> Settings:
    return load_settings(_env_file=None, bot_token=TOKEN, data_dir=str(tmp_path), **values)


def test_the_spec_default_orders() -> None:
    assert GENERATE_ORDER == ("gptunnel", "codexaeternum", "ailuna")
    assert DESCRIBE_ORDER == ("describepicture", "codexaeternum")


def test_every_registry_field_is_a_described_provider() -> None:
    fields = {f.name for f in dataclasses.fields(Providers) if f.init}
    assert fields == {provider.id for provider in PROVIDERS}


async def test_the_built_clients_match_their_descriptions(tmp_path: Path) -> None:
    storage = await open_storage(data_dir=tmp_path, keys_secret=None)
    try:
        async with aiohttp.ClientSession() as http:
            providers = build_providers(settings_for(tmp_path), http, storage=storage)
    finally:
        await storage.close()
    assert tuple(providers.generators) == GENERATE_ORDER
    assert tuple(providers.describers) == DESCRIBE_ORDER
    for provider in PROVIDERS:
        client = getattr(providers, provider.id)
        assert client.name == provider.id
        assert client.credential_type is provider.credential
        assert isinstance(client, ImageGenerator) == (provider.generate_rank is not None)
        assert isinstance(client, ImageDescriber) == (provider.describe_rank is not None)
        if isinstance(client, ImageGenerator):
            assert client.options == provider.options


@ids
def test_the_named_settings_exist_and_make_the_operator_credential(
    provider: ProviderDescription, tmp_path: Path
) -> None:
    named = [*provider.operator_settings, provider.url_setting]
    assert [name for name in named if name not in Settings.model_fields] == []
    assert provider.id not in operator_credentials(settings_for(tmp_path))
    values = dict(zip(provider.operator_settings, OPERATOR_VALUES[provider.id], strict=True))
    credential = operator_credentials(settings_for(tmp_path, **values))[provider.id]
    assert type(credential) is provider.credential
    assert list(credential.to_parts()) == OPERATOR_VALUES[provider.id]


@ids
def test_setkey_usage_shows_the_provider_in_every_language(provider: ProviderDescription) -> None:
    i18n = create_i18n("en")
    for language in i18n.available_locales:
        with i18n.context(), i18n.use_locale(language):
            assert provider.setkey_usage in setkey_usage()
            assert provider.setkey_usage in setkey_usage(provider.id)
    assert provider.setkey_usage.startswith(f"<code>/setkey {provider.id} ")


@ids
async def test_the_check_names_the_provider_and_its_settings(
    provider: ProviderDescription, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        outcome = await check_provider(provider.id, settings_for(tmp_path), http, None, timeout=1)
    expected = f"– {provider.display_name}: not checked: {provider.setting_names} is not set"
    assert outcome.line() == expected
    assert provider.probe is not None or provider.no_probe_reason


@ids
def test_the_provider_has_an_emulator(provider: ProviderDescription) -> None:
    module, package = FAKES / f"{provider.id}.py", FAKES / provider.id / "__init__.py"
    assert module.is_file() or package.is_file()


@ids
def test_settings_offers_the_provider_and_its_options(provider: ProviderDescription) -> None:
    assert (provider.id in BY_CODE["gen"].choices) == (provider.generate_rank is not None)
    assert (provider.id in BY_CODE["desc"].choices) == (provider.describe_rank is not None)
    declared = {spec.name for spec in provider.options}
    for entry in provider.option_preferences:
        assert entry.option in declared
        assert BY_CODE[entry.code].key == option_key(provider.id, entry.option)


async def test_help_and_keys_list_every_provider(serve: Serve, tmp_path: Path) -> None:
    async with iris_running(serve, tmp_path) as iris:
        for command in ("/help", "/keys"):
            text = text_of(await answer_to(iris, ALICE, command))
            missing = [p.display_name for p in PROVIDERS if f"{p.display_name}: " not in text]
            assert missing == [], command
