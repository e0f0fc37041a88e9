"""What an inline query offers: the generation requests it can start, or why none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiogram.utils.i18n import gettext as _

from bot.choices import GENERATE_ORDER, option_error_text
from bot.formatting import escape, is_blank
from bot.keychain import CredentialSource
from bot.options import OptionSyntaxError, ParsedText, parse_options
from bot.preferences import GENERATE_PROVIDER, option_defaults
from handlers.imagine.command import invalid_option_text
from handlers.inline.pending import InlineRequest
from services.exceptions import InvalidOptionError
from services.registry import Providers


@dataclass(frozen=True, slots=True)
class Offers:
    """The requests to offer, the mistakes to explain, and whether a key is missing."""

    prompt: str = ""
    requests: list[InlineRequest] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    needs_key: bool = False


def offers_for(
    query: str,
    *,
    user_id: int,
    usable: Mapping[str, CredentialSource],
    preferences: Mapping[str, str],
    providers: Providers,
) -> Offers:
    """One request per generation provider the user can use that takes the options; the
    mistakes only when none does (or the provider was asked for by name)."""
    try:
        parsed = parse_options(query)
    except OptionSyntaxError as e:
        return Offers(prompt=query, mistakes=[option_error_text(e)])
    if is_blank(parsed.text):  # recent images only; the key button if nothing can generate
        return Offers(needs_key=not any(name in usable for name in GENERATE_ORDER))
    candidates = _candidates(parsed, usable, preferences)
    if isinstance(candidates, str):
        return Offers(prompt=parsed.text, mistakes=[candidates])
    if not candidates:
        return Offers(prompt=parsed.text, needs_key=True)
    requests: list[InlineRequest] = []
    mistakes: list[str] = []
    for provider in candidates:
        generator = providers.generators[provider]
        stored = option_defaults(preferences, provider, generator.options)
        try:
            options = generator.validate_options({**stored, **parsed.options})
        except InvalidOptionError as e:
            mistakes.append(invalid_option_text(e))
            continue
        requests.append(InlineRequest(user_id, provider, parsed.text, options))
    return Offers(prompt=parsed.text, requests=requests, mistakes=[] if requests else mistakes)


def _candidates(
    parsed: ParsedText, usable: Mapping[str, CredentialSource], preferences: Mapping[str, str]
) -> list[str] | str:
    """The providers to offer, the preferred first; a text when the one asked for is unknown."""
    if parsed.provider is not None:
        if parsed.provider not in GENERATE_ORDER:
            return _("I cannot generate with {name}. Choose one of: {valid}.").format(
                name=escape(parsed.provider), valid=", ".join(GENERATE_ORDER)
            )
        return [parsed.provider] if parsed.provider in usable else []
    preferred = preferences.get(GENERATE_PROVIDER)
    order = sorted(GENERATE_ORDER, key=lambda name: name != preferred)
    return [name for name in order if name in usable]
