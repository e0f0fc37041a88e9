"""`python -m bot check`: the Bot API, the database and the operator's keys, one line each."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)

from bot.config import Settings
from bot.crypto import KEY_FILENAME, KeyFileError
from bot.logs import origin, setup_logging
from bot.providers import BY_ID, PROVIDERS, log_secrets, operator_credentials
from bot.storage import DATABASE_ERRORS, database_where, open_storage
from bot.storage.interfaces import SchemaTooNewError
from services.base import Credential
from services.exceptions import (
    AuthError,
    OutOfCreditsError,
    ProviderError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    UnavailableError,
)
from services.http import describe_url, new_session

Status = Literal["ok", "fail", "skip"]
_MARKS: dict[Status, str] = {"ok": "✓", "fail": "✗", "skip": "–"}

CALL_TIMEOUT = 10.0
"""Seconds each network call of the check may take, connection included."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one check, printed as one line."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        """`✓ name: detail`, with ✗ for a failure and – for something not checked."""
        return f"{_MARKS[self.status]} {self.name}: {self.detail}"


def run(settings: Settings, *, providers: bool) -> int:
    """Run the checks and print one line each; 0 when none failed, else 1."""
    redact = setup_logging("WARNING", log_format=settings.log_format, secrets=log_secrets(settings))
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A terminal that cannot show ✓ gets "?" rather than a UnicodeEncodeError.
        sys.stdout.reconfigure(errors="replace")
    outcomes = asyncio.run(run_checks(settings, providers=providers))
    for outcome in outcomes:
        print(redact.scrub(outcome.line()))  # the last defence: no secret is ever printed
    return 1 if any(outcome.status == "fail" for outcome in outcomes) else 0


async def run_checks(
    settings: Settings, *, providers: bool, timeout: float = CALL_TIMEOUT
) -> list[Outcome]:
    """Every check, run at once, in a fixed order: settings, Telegram, database, credentials."""
    credentials = operator_credentials(settings)
    http = new_session()
    try:
        checks = [
            _guarded("Telegram", check_telegram(settings, timeout=timeout)),
            _guarded("database", check_database(settings)),
        ]
        if providers:
            checks += [
                _guarded(
                    provider.display_name,
                    check_provider(
                        provider.id, settings, http, credentials.get(provider.id), timeout=timeout
                    ),
                )
                for provider in PROVIDERS
            ]
        telegram, database, *provider_outcomes = await asyncio.gather(*checks)
    finally:
        await http.close()
    return [
        Outcome("settings", "ok", "valid"),
        telegram,
        database,
        _operator_outcome(credentials),
        *provider_outcomes,
    ]


async def check_telegram(settings: Settings, *, timeout: float) -> Outcome:
    """getMe on the configured Bot API: the bot's @username, or why it failed."""
    url = settings.telegram_api_url
    where = describe_url(url) if url else "api.telegram.org"
    api = TelegramAPIServer.from_base(url) if url else PRODUCTION
    # Not the bot's own session: its flood and retry waits would make a failing check slow.
    bot = Bot(
        settings.bot_token.get_secret_value(), session=AiohttpSession(api=api, timeout=timeout)
    )
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        return Outcome("Telegram", "fail", f"{where} rejected BOT_TOKEN (401 Unauthorized)")
    except TelegramNetworkError:
        reason = f"cannot reach {where} (no connection, or no answer in {timeout:g} s)"
        return Outcome("Telegram", "fail", reason)
    except TelegramAPIError as e:
        return Outcome("Telegram", "fail", f"{where} refused getMe: {e.message}")
    except ClientDecodeError:
        return Outcome("Telegram", "fail", f"{where} did not answer like a Bot API server")
    finally:
        await bot.session.close()
    inline = "on" if me.supports_inline_queries else "off (@BotFather /setinline to turn it on)"
    return Outcome(
        "Telegram", "ok", f"@{me.username} (id {me.id}) via {where}; inline mode {inline}"
    )


async def check_database(settings: Settings) -> Outcome:
    """Open (create, migrate) the database, then write in a transaction that is rolled back."""
    database_url = settings.database_url.get_secret_value() if settings.database_url else None
    where = database_where(data_dir=settings.data_dir, database_url=database_url)
    keys_secret = settings.keys_secret.get_secret_value() if settings.keys_secret else None
    try:
        storage = await open_storage(
            data_dir=settings.data_dir, keys_secret=keys_secret, database_url=database_url
        )
    except (KeyFileError, SchemaTooNewError) as e:
        return Outcome("database", "fail", str(e))
    except DATABASE_ERRORS as e:
        return Outcome("database", "fail", f"cannot open {where}: {_os_reason(e)}")
    try:
        await storage.db.check_writable()
        version = await storage.db.schema_version()
    except DATABASE_ERRORS as e:
        return Outcome("database", "fail", f"{where} is not writable: {_os_reason(e)}")
    finally:
        await storage.close()
    key = "KEYS_SECRET" if keys_secret else str(settings.data_dir / KEY_FILENAME)
    return Outcome("database", "ok", f"{where}, schema version {version}, writable; key: {key}")


async def check_provider(
    name: str,
    settings: Settings,
    http: aiohttp.ClientSession,
    credential: Credential | None,
    *,
    timeout: float,
) -> Outcome:
    """One free call with the operator's credential for `name`, if it is set and one exists."""
    provider = BY_ID[name]
    shown = provider.display_name
    if credential is None:
        return Outcome(shown, "skip", f"not checked: {provider.setting_names} is not set")
    if provider.probe is None:
        return Outcome(shown, "skip", f"not checked: {provider.no_probe_reason}")
    try:
        detail = await provider.probe(
            settings, http, credential, aiohttp.ClientTimeout(total=timeout)
        )
    except ProviderError as e:
        where = describe_url(getattr(settings, provider.url_setting))
        return Outcome(
            shown, "fail", _failure(e, what=provider.credential_word, where=where, timeout=timeout)
        )
    return Outcome(shown, "ok", detail)


def _failure(error: ProviderError, *, what: str, where: str, timeout: float) -> str:
    """A short reason for a failed provider call; never the provider's own text."""
    status = f" (HTTP {error.status})" if error.status else ""
    if isinstance(error, AuthError):
        return f"{what} rejected{status}"
    if isinstance(error, OutOfCreditsError):
        return f"{what} accepted, but out of credits{status}"
    if isinstance(error, QuotaExceededError | RateLimitedError):
        return f"rate limited or over quota, try again later{status}"
    if isinstance(error, ProviderTimeoutError):
        return f"no answer from {where} in {timeout:g} s"
    if isinstance(error, UnavailableError):
        return f"cannot reach {where}, or it is down{status}"
    return f"unexpected answer from {where}{status}"


def _operator_outcome(credentials: dict[str, Credential]) -> Outcome:
    """Which operator credentials are set, by setting name; never their values."""
    given = [p.setting_names for p in PROVIDERS if p.id in credentials]
    missing = [p.setting_names for p in PROVIDERS if p.id not in credentials]
    if not given:
        return Outcome("operator credentials", "skip", "none set; users need their own keys")
    detail = ", ".join(given)
    if missing:
        detail += f" (not set: {', '.join(missing)})"
    return Outcome("operator credentials", "skip", detail)


def _os_reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


async def _guarded(name: str, check: Awaitable[Outcome]) -> Outcome:
    """The check's outcome; an unforeseen error becomes a failure line, never a traceback."""
    try:
        return await check
    except Exception as e:  # noqa: BLE001 - one broken check must not hide the other lines
        return Outcome(name, "fail", f"unexpected error ({origin(e)})")
