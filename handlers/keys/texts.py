"""The texts of key setup: the /keys list and how /setkey is written."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram.utils.i18n import gettext as _

from bot.formatting import escape
from bot.providers import BY_ID, PROVIDERS


def setkey_usage(provider: str | None = None) -> str:
    """How /setkey is written: for one provider, or for each of them."""
    chosen = [BY_ID[provider]] if provider in BY_ID else PROVIDERS
    return "\n".join(
        [
            _("Send your key like this (I delete the message right away):"),
            *(description.setkey_usage for description in chosen),
        ]
    )


def keys_text(masked: Mapping[str, str]) -> str:
    """The /keys list: the user's keys, masked, then how to add one."""
    lines = [_("<b>Your keys</b>")]
    for provider in PROVIDERS:
        if provider.id in masked:
            lines.append(f"✅ {provider.display_name}: <code>{escape(masked[provider.id])}</code>")
        else:
            lines.append(_("▫️ {provider}: not set").format(provider=provider.display_name))
    lines += ["", setkey_usage()]
    return "\n".join(lines)


def provider_list() -> str:
    """Every provider's name as commands take it."""
    return ", ".join(BY_ID)
