"""Every message the code uses is in every catalog, translated, with the same placeholders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR
from scripts.update_locales import LOCALES, extract

CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"\{(\w*)\}")
WORDS = re.compile(r"[A-Za-z]{3,}(?:\W+[A-Za-z]{3,}){2}")


def test_english_catalog_exists() -> None:
    assert LOCALES / "en" / "LC_MESSAGES" / "messages.po" in CATALOGS


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_catalog_is_complete(path: Path) -> None:
    with path.open("rb") as f:
        catalog = read_po(f)
    missing, untranslated, mismatched = [], [], []
    for message in extract():
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None:
            missing.append(message.id)
            continue
        strings = [
            str(s) for s in (found.string if isinstance(found.string, tuple) else [found.string])
        ]
        if not all(strings):
            untranslated.append(message.id)
        ids = [str(i) for i in (message.id if isinstance(message.id, tuple) else [message.id])]
        # English left in another language: a message of words copied over unchanged.
        if path.parent.parent.name != "en" and strings == ids and WORDS.search(ids[0]):
            untranslated.append(message.id)
        wanted = {name for text in ids for name in PLACEHOLDER.findall(text)}
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings if s):
            mismatched.append(message.id)
    assert missing == []
    assert untranslated == []
    assert mismatched == []


def test_every_catalog_is_package_data() -> None:
    # A wheel carries what pyproject declares, not what happens to lie next to the code.
    config = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    setuptools = config["tool"]["setuptools"]
    assert "locales" in setuptools["packages"]["find"]["include"]
    patterns = setuptools["package-data"]["locales"]
    catalogs = sorted(p.relative_to(LOCALES_DIR) for p in LOCALES_DIR.rglob("*.po"))
    assert catalogs
    assert all(any(c.match(pattern) for pattern in patterns) for c in catalogs)
