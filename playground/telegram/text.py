"""Telegram's text rules: UTF-16 offsets, entities and the HTML subset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playground.telegram.errors import ApiError


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Entity:
    """A message entity; offset and length in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API MessageEntity object."""
        out: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "custom_emoji_id"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


_SPACE = frozenset(" \t\r\n\f\v\0")
_HTML_SPECIAL = re.compile(r"[<&]")
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _ref_char(match: re.Match[str]) -> str | None:
    """The character a reference stands for; None if Telegram does not decode it."""
    dec, hexa, named = match.groups()
    if named:
        return _NAMED_REFS[named]
    code = int(dec) if dec else int(hexa, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code < 0xE000 else None


class EntitiesError(ApiError):
    """HTML the Bot API refuses."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, f"Bad Request: can't parse entities: {reason}")


@dataclass(slots=True)
class _OpenTag:
    name: str
    offset: int
    attrs: dict[str, str]
    language: str | None = None


def parse_html(source: str) -> tuple[str, tuple[Entity, ...]]:
    """Telegram's HTML subset parsed as the Bot API parses it: visible text and entities."""
    return _HtmlParser(source).parse()


class _HtmlParser:
    """One pass over the text, following tdlib's parser and its error messages."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0
        self.open: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def parse(self) -> tuple[str, tuple[Entity, ...]]:
        while self.pos < len(self.src):
            special = _HTML_SPECIAL.search(self.src, self.pos)
            end = len(self.src) if special is None else special.start()
            self._emit(self.src[self.pos : end])
            self.pos = end
            if special is None:
                break
            if self.src[end] == "&":
                self._char_ref()
            elif self.src.startswith("</", end):
                self._end_tag()
            else:
                self._start_tag()
        if self.open:
            raise EntitiesError(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"'
            )
        entities = sorted(self.entities, key=lambda e: (e.offset, -e.length))
        return "".join(self.out), tuple(entities)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_len(text)

    def _byte(self, index: int) -> int:
        return len(self.src[:index].encode())

    def _at(self, index: int) -> str:
        return self.src[index] if index < len(self.src) else ""

    def _skip_spaces(self, index: int) -> int:
        while index < len(self.src) and self.src[index] in _SPACE:
            index += 1
        return index

    def _char_ref(self) -> None:
        match = _CHAR_REF.match(self.src, self.pos)
        char = None if match is None else _ref_char(match)
        if match is None or char is None:
            self._emit("&")  # not a reference Telegram knows: kept as it is
            self.pos += 1
            return
        self._emit(char)
        self.pos = match.end()

    def _start_tag(self) -> None:
        begin = self.pos
        i = begin + 1
        while i < len(self.src) and self.src[i] not in _SPACE and self.src[i] != ">":
            i += 1
        if i >= len(self.src):
            raise EntitiesError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        name = self.src[begin + 1 : i].lower()
        if name not in _TAG_ENTITY:
            raise EntitiesError(
                f'Unsupported start tag "{name}" at byte offset {self._byte(begin)}'
            )
        attrs: dict[str, str] = {}
        while True:
            i = self._skip_spaces(i)
            if i >= len(self.src):
                raise EntitiesError(f"Unclosed start tag at byte offset {self._byte(begin)}")
            if self.src[i] == ">":
                break
            i = self._attribute(name, begin, i, attrs)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntitiesError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte(begin)}'
            )
        self.open.append(_OpenTag(name, self.offset, attrs))
        self.pos = i + 1

    def _attribute(self, tag: str, begin: int, i: int, attrs: dict[str, str]) -> int:
        start = i
        while i < len(self.src) and self.src[i] not in _SPACE and self.src[i] not in "=>":
            i += 1
        attr = self.src[start:i].lower()
        i = self._skip_spaces(i)
        if self._at(i) != "=":
            if tag == "blockquote" and attr == "expandable":
                attrs[attr] = ""
                return i
            raise EntitiesError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {self._byte(begin)}"
            )
        i = self._skip_spaces(i + 1)
        quote = self._at(i)
        if quote == "":
            raise EntitiesError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        if quote in "'\"":
            end = self.src.find(quote, i + 1)
            if end < 0:
                raise EntitiesError(
                    f"Unclosed end of string literal at byte offset {self._byte(i)}"
                )
            value = _CHAR_REF.sub(lambda m: _ref_char(m) or m.group(), self.src[i + 1 : end])
            i = end + 1
        else:
            token = i
            while i < len(self.src) and (self.src[i].isalnum() or self.src[i] in ".-"):
                i += 1
            value = self.src[token:i].lower()
        if i < len(self.src) and self.src[i] not in _SPACE and self.src[i] != ">":
            raise EntitiesError(f"Unexpected end of name token at byte offset {self._byte(i)}")
        attrs[attr] = value
        return i

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.open:
            raise EntitiesError(f"Unexpected end tag at byte offset {self._byte(begin)}")
        i = begin + 2
        while i < len(self.src) and self.src[i] not in _SPACE and self.src[i] != ">":
            i += 1
        name = self.src[begin + 2 : i].lower()
        i = self._skip_spaces(i)
        if self._at(i) != ">":
            raise EntitiesError(f"Unclosed end tag at byte offset {self._byte(begin)}")
        tag = self.open.pop()
        if name and name != tag.name:
            raise EntitiesError(
                f'Unmatched end tag at byte offset {self._byte(begin)}, expected "</{tag.name}>", '
                f'found "</{name}>"'
            )
        self.pos = i + 1
        self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        kind = _TAG_ENTITY[tag.name]
        language = tag.attrs.get("class", "").removeprefix("language-") or None
        if tag.name == "code" and language and self.open and self.open[-1].name == "pre":
            self.open[-1].language = language  # <pre><code class="language-x"> is one pre entity
            return
        if length <= 0:
            return
        if kind == "text_link":
            if "href" in tag.attrs:
                self.entities.append(Entity(kind, tag.offset, length, url=tag.attrs["href"]))
        elif kind == "custom_emoji":
            if "emoji-id" in tag.attrs:
                self.entities.append(
                    Entity(kind, tag.offset, length, custom_emoji_id=tag.attrs["emoji-id"])
                )
        elif kind == "pre":
            self.entities.append(Entity(kind, tag.offset, length, language=tag.language))
        elif kind == "blockquote" and "expandable" in tag.attrs:
            self.entities.append(Entity("expandable_blockquote", tag.offset, length))
        else:
            self.entities.append(Entity(kind, tag.offset, length))
