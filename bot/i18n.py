"""Translations: gettext catalogs under `locales/`, compiled in memory, and each user's language."""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales
from bot.config import LANGUAGES
from bot.storage.users import UserRecord

LOCALES_DIR = Path(locales.__file__).resolve().parent
DOMAIN = "messages"


class CatalogI18n(I18n):
    """aiogram's I18n reading `.po` catalogs directly, so no compiled `.mo` files are kept."""

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext looks the instance up on I18n's own context variable; a subclass
        # gets a variable of its own, so the instance is set on I18n's explicitly.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            compiled = io.BytesIO()
            write_mo(compiled, catalog, use_fuzzy=False)
            compiled.seek(0)
            translations[po_path.parent.parent.name] = gettext.GNUTranslations(compiled)
        return translations


def create_i18n(default_language: str) -> CatalogI18n:
    """The translations of every language under `locales/`."""
    return CatalogI18n(path=LOCALES_DIR, default_locale=default_language, domain=DOMAIN)


def pick_language(user: UserRecord | None, telegram_user: User | None, default: str) -> str:
    """The user's choice, else the primary subtag of Telegram's language_code, else default."""
    if user is not None and user.language in LANGUAGES:
        return user.language
    code = telegram_user.language_code if telegram_user else None
    primary = (code or "").split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else default


class UserLanguageMiddleware(I18nMiddleware):
    """Sets the locale of each update from the user record the user middleware loaded."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return pick_language(
            data.get("user_record"), data.get("event_from_user"), self.i18n.default_locale
        )
