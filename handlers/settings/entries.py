"""The entries of the /settings menu: each preference and the values it may take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES
from bot.preferences import DESCRIBE_PROVIDER, GENERATE_PROVIDER, option_key
from bot.providers import DESCRIBE_ORDER, GENERATE_ORDER, PROVIDERS, display_name
from bot.providers.description import OptionPreference, ProviderDescription
from bot.storage.users import UserRecord

UNSET = "-"
"""The button value of "Automatic" and "None": the preference is cleared, the default applies."""

LANGUAGE_NAMES = {"en": "English", "es": "Español", "ru": "Русский", "zh": "中文"}
"""Each language in itself, so anyone finds theirs whatever language the bot speaks now."""


def _automatic() -> str:
    return _("Automatic")


def _no_value() -> str:
    return _("None")


def encode(value: str) -> str:
    """A value as button data carries it: ":" separates the fields there."""
    return value.replace(":", "x")


@dataclass(frozen=True, slots=True)
class Preference:
    """One entry of the /settings menu and the values it may take."""

    code: str
    """Its name in button data: short, so every button stays under Telegram's 64 bytes."""
    key: str | None
    """Its name in the user's preferences; None for the language, kept in users.language."""
    choices: tuple[str, ...]
    title: Callable[[], str]
    hint: Callable[[], str]
    label: Callable[[str], str]
    default: str | None = None
    """What applies when nothing is stored; None offers "unset" as a choice of its own."""
    unset_label: Callable[[], str] = _no_value

    def current(self, user: UserRecord) -> str | None:
        """The value in force for the user: the stored one if still valid, else the default."""
        stored = user.language if self.key is None else user.preferences.get(self.key)
        return stored if stored in self.choices else self.default

    def buttons(self) -> dict[str, str | None]:
        """Every value by its button value, "unset" (None) first when it is a choice."""
        found: dict[str, str | None] = {} if self.default is not None else {UNSET: None}
        found.update((encode(choice), choice) for choice in self.choices)
        return found

    def describe(self, value: str | None) -> str:
        """How a value is shown."""
        return self.unset_label() if value is None else self.label(value)


def _as_is(value: str) -> str:
    return value


def _option(provider: ProviderDescription, entry: OptionPreference) -> Preference:
    """A provider option's default, with the values and default the provider declares."""
    spec = next(spec for spec in provider.options if spec.name == entry.option)
    return Preference(
        code=entry.code,
        key=option_key(provider.id, entry.option),
        choices=spec.choices,
        title=entry.title,
        hint=lambda: _("{provider} uses it when /imagine has no --{option}.").format(
            provider=provider.display_name, option=entry.option
        ),
        label=_as_is,
        default=spec.default,
    )


LANGUAGE_PREFERENCE = Preference(
    code="lang",
    key=None,
    choices=LANGUAGES,
    title=lambda: _("Language"),
    hint=lambda: _("Automatic: the language of your Telegram app."),
    label=LANGUAGE_NAMES.__getitem__,
    unset_label=_automatic,
)

PREFERENCES: tuple[Preference, ...] = (
    Preference(
        code="gen",
        key=GENERATE_PROVIDER,
        choices=GENERATE_ORDER,
        title=lambda: _("Generation provider"),
        hint=lambda: _(
            "/imagine uses it when you name no --provider. "
            "Automatic: the first one you have a key for."
        ),
        label=display_name,
        unset_label=_automatic,
    ),
    Preference(
        code="desc",
        key=DESCRIBE_PROVIDER,
        choices=DESCRIBE_ORDER,
        title=lambda: _("Describe provider"),
        hint=lambda: _(
            "Photos go to it when you name no --provider. "
            "Automatic: the first one you have a key for."
        ),
        label=display_name,
        unset_label=_automatic,
    ),
    *(_option(provider, entry) for provider in PROVIDERS for entry in provider.option_preferences),
    LANGUAGE_PREFERENCE,
)
BY_CODE = {preference.code: preference for preference in PREFERENCES}
