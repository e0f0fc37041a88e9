"""Message content as Telegram reads it: formatted text, captions, entities, inline keyboards."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from playground.telegram.errors import bad
from playground.telegram.model import MAX_CAPTION, MAX_TEXT, Button, Keyboard
from playground.telegram.text import Entity, parse_html, utf16_len

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")
_MENTION = re.compile(r"(?<![A-Za-z0-9_@/])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")


def user_entities(text: str) -> tuple[Entity, ...]:
    """The entities Telegram adds to a user's text: bot commands and @mentions."""
    found = [
        Entity(kind, utf16_len(text[: m.start()]), utf16_len(m.group()))
        for kind, pattern in (("bot_command", _COMMAND), ("mention", _MENTION))
        for m in pattern.finditer(text)
    ]
    return tuple(sorted(found, key=lambda e: e.offset))


def formatted(
    params: Mapping[str, Any], key: str, entities_key: str, limit: int, too_long: str
) -> tuple[str, tuple[Entity, ...]]:
    """The visible text of a parameter and its entities, after parse_mode."""
    raw = params.get(key)
    source = "" if raw is None else str(raw)
    mode = params.get("parse_mode")
    if mode is None or mode == "":
        text, entities = source, tuple(_entity(e) for e in params.get(entities_key) or ())
    elif str(mode).lower() == "html":
        text, entities = parse_html(source)
    elif str(mode).lower() in ("markdown", "markdownv2"):
        text, entities = source, ()
    else:
        raise bad("unsupported parse_mode")
    if len(text) > limit:
        raise bad(too_long)
    return text, entities


def message_text(params: Mapping[str, Any]) -> tuple[str, tuple[Entity, ...]]:
    """The text of sendMessage or editMessageText, which may be neither too long nor blank."""
    text, entities = formatted(params, "text", "entities", MAX_TEXT, "message is too long")
    if not text.strip():
        raise bad("message text is empty")
    return text, entities


def caption(params: Mapping[str, Any]) -> tuple[str | None, tuple[Entity, ...]]:
    """The caption of a media message or InputMedia, None if empty."""
    text, entities = formatted(
        params, "caption", "caption_entities", MAX_CAPTION, "message caption is too long"
    )
    return (text or None), entities


def _entity(value: Any) -> Entity:
    if not isinstance(value, dict):
        raise bad("can't parse MessageEntity JSON object")
    try:
        return Entity(
            type=str(value["type"]),
            offset=int(value["offset"]),
            length=int(value["length"]),
            url=value.get("url"),
            language=value.get("language"),
            custom_emoji_id=value.get("custom_emoji_id"),
        )
    except (KeyError, TypeError, ValueError):
        raise bad("can't parse MessageEntity JSON object") from None


def keyboard(markup: Any) -> Keyboard:
    """The inline keyboard of a reply_markup, checked as Telegram checks it."""
    if markup is None or markup == "":
        return ()
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return ()  # a reply keyboard, force_reply or remove_keyboard: not part of the message
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    return tuple(tuple(_button(b) for b in row) for row in rows if row)


def _button(value: Any) -> Button:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    data = value.get("callback_data")
    url = value.get("url")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise bad("BUTTON_DATA_INVALID")
    if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
        raise bad("BUTTON_URL_INVALID")
    if data is None and url is None and len(value) == 1:
        raise bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    return Button(
        text=value["text"],
        callback_data=None if data is None else str(data),
        url=None if url is None else str(url),
    )
