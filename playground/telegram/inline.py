"""Inline mode's objects: open queries, the results a bot answers, checked as Telegram checks.

Error texts Telegram documents nowhere are assumed from what it answers in practice:
RESULTS_TOO_MUCH, RESULT_ID_INVALID, RESULT_ID_DUPLICATE, RESULT_TYPE_INVALID, MESSAGE_EMPTY,
PHOTO_THUMB_URL_EMPTY, NEXT_OFFSET_INVALID, START_PARAM_INVALID, BUTTON_TEXT_INVALID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playground.telegram.content import caption, keyboard, message_text
from playground.telegram.errors import bad
from playground.telegram.files import FileStore
from playground.telegram.model import Keyboard, User
from playground.telegram.text import Entity

MAX_RESULTS = 50
MAX_RESULT_ID = 64
"""Bytes of a result id."""
MAX_NEXT_OFFSET = 64
"""Bytes of next_offset."""
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class InlineQuery:
    """A query a user typed, open until the bot answers it."""

    id: str
    user: User
    chat_id: int
    query: str
    offset: str


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One result as the user sees it, with the message choosing it posts."""

    type: str
    id: str
    title: str | None = None
    description: str | None = None
    text: str | None = None
    """An article's message text (markup parsed)."""
    photo_sizes: tuple[str, ...] = ()
    """A cached photo's file ids."""
    photo_url: str | None = None
    caption: str | None = None
    entities: tuple[Entity, ...] = ()
    parse_mode: str | None = None
    reply_markup: Keyboard = ()


@dataclass(frozen=True, slots=True)
class ResultsButton:
    """The button above the results: it opens the private chat with a start parameter."""

    text: str
    start_parameter: str


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """What answerInlineQuery said to one query."""

    query: InlineQuery
    results: tuple[InlineResult, ...]
    cache_time: int
    is_personal: bool
    next_offset: str
    button: ResultsButton | None

    def result(self, result_id: str) -> InlineResult:
        """The result with this id (ValueError if the bot gave none)."""
        for result in self.results:
            if result.id == result_id:
                return result
        raise ValueError(f"the answer to query {self.query.id} has no result {result_id!r}")


def read_results(value: Any, files: FileStore) -> tuple[InlineResult, ...]:
    """The `results` of answerInlineQuery, refused as Telegram refuses them."""
    if not isinstance(value, list):
        raise bad("can't parse inline query results JSON object")
    if len(value) > MAX_RESULTS:
        raise bad("RESULTS_TOO_MUCH")
    results = tuple(_result(item, files) for item in value)
    ids = [result.id for result in results]
    if len(ids) != len(set(ids)):
        raise bad("RESULT_ID_DUPLICATE")
    return results


def read_button(value: Any) -> ResultsButton | None:
    """The InlineQueryResultsButton, if any (a web app button is not emulated)."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise bad("can't parse inline query results button JSON object")
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad("BUTTON_TEXT_INVALID")
    start = value.get("start_parameter")
    if not isinstance(start, str) or not _START_PARAMETER.fullmatch(start):
        raise bad("START_PARAM_INVALID")
    return ResultsButton(text, start)


def read_next_offset(value: Any) -> str:
    """next_offset: at most 64 bytes."""
    offset = "" if value is None else str(value)
    if len(offset.encode()) > MAX_NEXT_OFFSET:
        raise bad("NEXT_OFFSET_INVALID")
    return offset


def _result(item: Any, files: FileStore) -> InlineResult:
    if not isinstance(item, dict):
        raise bad("can't parse InlineQueryResult JSON object")
    result_id = item.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= MAX_RESULT_ID:
        raise bad("RESULT_ID_INVALID")
    markup = keyboard(item.get("reply_markup"))
    kind = item.get("type")
    if kind == "article":
        return _article(item, result_id, markup)
    if kind == "photo":
        return _photo(item, result_id, markup, files)
    raise bad("RESULT_TYPE_INVALID")


def _article(item: dict[str, Any], result_id: str, markup: Keyboard) -> InlineResult:
    title = item.get("title")
    if not isinstance(title, str) or not title:
        raise bad('can\'t parse InlineQueryResultArticle: Field "title" must be of type String')
    content = item.get("input_message_content")
    if not isinstance(content, dict) or not content.get("message_text"):
        raise bad("MESSAGE_EMPTY")
    text, entities = message_text({**content, "text": content["message_text"]})
    return InlineResult(
        type="article",
        id=result_id,
        title=title,
        description=_optional(item, "description"),
        text=text,
        entities=entities,
        parse_mode=content.get("parse_mode"),
        reply_markup=markup,
    )


def _photo(
    item: dict[str, Any], result_id: str, markup: Keyboard, files: FileStore
) -> InlineResult:
    text, entities = caption(item)
    sizes: tuple[str, ...] = ()
    url = None
    if "photo_file_id" in item:  # InlineQueryResultCachedPhoto
        sizes = files.photo_sizes(files.known(item["photo_file_id"], "photo").file_id)
    else:  # InlineQueryResultPhoto
        url = item.get("photo_url")
        if not isinstance(url, str) or not _URL.fullmatch(url):
            raise bad("PHOTO_URL_INVALID")
        thumb = item.get("thumbnail_url")
        if not isinstance(thumb, str) or not _URL.fullmatch(thumb):
            raise bad("PHOTO_THUMB_URL_EMPTY")
    return InlineResult(
        type="photo",
        id=result_id,
        title=_optional(item, "title"),
        description=_optional(item, "description"),
        photo_sizes=sizes,
        photo_url=url,
        caption=text,
        entities=entities,
        parse_mode=item.get("parse_mode"),
        reply_markup=markup,
    )


def _optional(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None else str(value)
