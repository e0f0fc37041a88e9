"""Text for Telegram: HTML escaping, splitting at the 4096 limit, shortening captions."""

from __future__ import annotations

import html
import re
import unicodedata

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ELLIPSIS = "…"

# Cut points from best to worst: a paragraph, a line, a sentence end, a space. Full-width
# (CJK) sentence ends need no space after them: Chinese puts none between sentences.
_CUTS = (
    re.compile(r"\n\n"),
    re.compile(r"\n"),
    re.compile(r"[.!?](?=\s)|[。！？]"),
    re.compile(r" "),
)
_ENTITY_TAIL = re.compile(r"&[#A-Za-z0-9]{0,8}$")


def escape(text: str) -> str:
    """User or provider text made safe for parse_mode HTML."""
    return html.escape(text, quote=False)


def is_blank(text: str) -> bool:
    """True when the text shows nothing: only spaces, control and format characters.

    Format characters are the zero-width ones and the direction marks (RTL overrides...).
    """
    return all(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut escaped text into parts of at most `limit` characters at the best boundary."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _best_cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters with "…", never inside an HTML entity."""
    if len(text) <= limit:
        return text
    if limit < len(ELLIPSIS):
        return ""  # not even the ellipsis fits
    head = text[: limit - len(ELLIPSIS)]
    head = _ENTITY_TAIL.sub("", head)
    return head.rstrip() + ELLIPSIS


def _best_cut(text: str, limit: int) -> int:
    # One character more than fits, so a sentence end right at the limit sees its space.
    lookahead = text[: limit + 1]
    for pattern in _CUTS:
        ends = [m.end() for m in pattern.finditer(lookahead)]
        # A cut in the first half would leave a tiny part; a worse boundary is better then.
        good = [end for end in ends if limit // 2 < end <= limit]
        if good:
            return good[-1]
    entity = _ENTITY_TAIL.search(text[:limit])
    # An entity cut off at the limit moves to the next part whole (unless it is all there is).
    return entity.start() if entity and entity.start() > 0 else limit
