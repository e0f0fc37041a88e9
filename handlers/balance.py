"""/balance: the last credits each provider reported for the user's keys, and this hour's quota."""

from __future__ import annotations

import math
import time
from datetime import UTC

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.keychain import CredentialSource, KeyChain
from bot.providers import DISPLAY_NAMES
from bot.storage import Storage
from bot.storage.credits import CreditRecord
from services.describepicture import DescribePictureCredential
from services.registry import Providers

_SUBLINE = "   ↳ "
"""Indents the quota lines under the provider they belong to."""


def time_ago(seconds: float) -> str:
    """How long ago something happened, to the minute, hour or day."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return _("{n} min ago").format(n=minutes)
    hours = minutes // 60
    if hours < 48:
        return _("{n} h ago").format(n=hours)
    return _("{n} d ago").format(n=hours // 24)


def _provider_line(
    name: str, source: CredentialSource | None, record: CreditRecord | None, *, now: float
) -> str:
    """One provider: its credits when the key is the user's own, else whose key it uses."""
    if source == "operator":
        # The operator's balance is theirs to know: users only learn the shared key is in use.
        return _("🔸 {provider}: the bot's shared key").format(provider=name)
    if source is None:
        return _("▫️ {provider}: no key").format(provider=name)
    if record is None:
        return _(
            "✅ {provider} (your key): balance not known yet, shown after your next job"
        ).format(provider=name)
    return _("✅ {provider} (your key): balance {credits}, as of {ago}").format(
        provider=name, credits=record.credits, ago=time_ago(now - record.updated_at)
    )


async def _quota_line(
    keychain: KeyChain, providers: Providers, *, user_id: int, now: float
) -> str | None:
    """This hour's DescribePicture requests on the appId the user's jobs use, if any.

    The count is per appId, so with the bot's shared key it is everyone's requests.
    """
    quota = providers.describepicture.quota
    if quota is None:
        return None
    resolved = await keychain.resolve(user_id, DescribePictureCredential.provider)
    if resolved is None or not isinstance(resolved.credential, DescribePictureCredential):
        return None
    app_id = resolved.credential.secret
    used = await quota.used(app_id)
    if resolved.source == "own":
        line = _("This hour: {used}/{limit} requests")
    else:
        line = _("This hour, shared by everyone on the bot's key: {used}/{limit} requests")
    lines = [line.format(used=used, limit=quota.limit)]
    reset_at = await quota.reset_at(app_id)
    if reset_at is not None:
        wait = max(1, math.ceil((reset_at.timestamp() - now) / 60))
        lines.append(
            _("Used up: it frees up at {time} UTC (in {n} min)").format(
                time=reset_at.astimezone(UTC).strftime("%H:%M"), n=wait
            )
        )
    return "\n".join(_SUBLINE + line for line in lines)


async def balance(
    message: Message, keychain: KeyChain, storage: Storage, providers: Providers
) -> None:
    """/balance: per provider the last known credits of the user's key, or whose key it uses."""
    if message.from_user is None:
        return
    user_id = message.from_user.id
    sources = await keychain.sources(user_id)
    credits = await storage.credits.for_owner(user_id)
    now = time.time()
    lines = [_("<b>Your balance</b>, as the providers last reported it")]
    for provider, name in DISPLAY_NAMES.items():
        lines.append(_provider_line(name, sources.get(provider), credits.get(provider), now=now))
        if provider == DescribePictureCredential.provider:
            quota = await _quota_line(keychain, providers, user_id=user_id, now=now)
            if quota is not None:
                lines.append(quota)
    if any(provider not in sources for provider in DISPLAY_NAMES):
        lines += ["", _("Add a key with /setkey in private chat.")]
    await message.reply("\n".join(lines))


def create_router() -> Router:
    """The balance router: /balance in any chat."""
    router = Router(name="balance")
    router.message.register(balance, Command("balance"))
    return router
