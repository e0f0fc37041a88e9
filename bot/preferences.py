"""The names under which a user's /settings preferences are stored, and how jobs read them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.base import OptionSpec

GENERATE_PROVIDER = "generate_provider"
"""The provider /imagine uses when the text names none."""
DESCRIBE_PROVIDER = "describe_provider"
"""The provider a photo goes to when the caption names none."""


def option_key(provider: str, option: str) -> str:
    """Where the user's default for one provider option is kept, e.g. "gptunnel.ar"."""
    return f"{provider}.{option}"


def option_defaults(
    preferences: Mapping[str, str], provider: str, specs: Iterable[OptionSpec]
) -> dict[str, str]:
    """The user's stored defaults for a provider's options (only valid values; text wins)."""
    defaults: dict[str, str] = {}
    for spec in specs:
        value = preferences.get(option_key(provider, spec.name))
        if value is not None and value in spec.choices:
            defaults[spec.name] = value
    return defaults
