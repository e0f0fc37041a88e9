"""Midjourney-style options in a prompt or caption: `--name value` anywhere in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Phones turn "--" into an en or em dash; users mean the option all the same.
_OPTION = re.compile(r"^(?:--|—|–)([A-Za-z][A-Za-z0-9_]*)$")


MISSING_VALUE = "needs a value"
CONFLICT = "given twice with different values"


class OptionSyntaxError(ValueError):
    """An option without a value (MISSING_VALUE), or given twice differently (CONFLICT)."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"--{option}: {problem}")
        self.option = option
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ParsedText:
    """A prompt or question with its options taken out."""

    text: str
    provider: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def parse_options(raw: str) -> ParsedText:
    """Split `raw` into text and options; `--provider` is kept apart from the provider's options."""
    tokens = raw.split()
    words: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        match = _OPTION.match(tokens[i])
        if match is None:
            words.append(tokens[i])
            i += 1
            continue
        name = match.group(1).lower()
        if i + 1 >= len(tokens) or _OPTION.match(tokens[i + 1]):
            raise OptionSyntaxError(name, MISSING_VALUE)
        value = tokens[i + 1].lower()
        if options.get(name, value) != value:
            raise OptionSyntaxError(name, CONFLICT)
        options[name] = value
        i += 2
    provider = options.pop("provider", None)
    return ParsedText(text=" ".join(words), provider=provider, options=options)
