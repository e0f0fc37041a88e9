"""Extract every translatable message from the code and merge it into each catalog under locales/.

Run with `make locales`. English is the source language, so its catalog is filled in here;
other languages keep their translations, and new messages show up untranslated for them.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
SOURCES = ("bot", "handlers")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "__": None, "lazy_gettext": None}


def extract() -> Catalog:
    """Every message id used in the code."""
    template = Catalog(project="Iris", domain="messages")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message, None, [(f"{source}/{filename}", lineno)], auto_comments=comments,
                context=context,
            )  # fmt: skip
    return template


def update(template: Catalog, language: str) -> None:
    """Merge the template into one language's catalog (created if missing)."""
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as f:
            catalog = read_po(f, locale=language)
    else:
        catalog = Catalog(locale=language, project="Iris", domain="messages")
    created = catalog.creation_date
    # update() adopts the template's message objects: each catalog gets its own copy, or the
    # English pass below would fill every other language with English.
    catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
    catalog.creation_date = created  # unchanged unless the file is new: no noise in diffs
    catalog.obsolete.clear()
    if language == "en":
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, tuple | list):  # plural: one form per English form
                if not isinstance(message.string, tuple | list) or not all(message.string):
                    message.string = tuple(message.id)
            elif not message.string:
                message.string = message.id
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=False)


def main() -> int:
    """Update every catalog under locales/ (and English, always)."""
    template = extract()
    # A language is a folder with LC_MESSAGES (locales/ is also a package: __pycache__ is not).
    languages = {p.parent.name for p in LOCALES.glob("*/LC_MESSAGES")} | {"en"}
    for language in sorted(languages):
        update(template, language)
        print(f"updated {language}: {len(template)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
