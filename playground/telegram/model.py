"""What the emulated Telegram holds: users, chats, messages, buttons, topics, and its sizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from playground.telegram.text import Entity

BOT_ID = 4242
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Iris",
    "username": "iris_test_bot",
}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
"""getFile refuses larger files, as the cloud Bot API does."""
MAX_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024

ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["member", "administrator", "creator", "left"]


@dataclass(frozen=True, slots=True)
class User:
    """A Telegram user played by a test."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


BOT = User(id=BOT_ID, first_name="Iris", username="iris_test_bot")


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat; a private chat has the id of its user; a forum is a supergroup with topics."""

    id: int
    type: ChatType = "private"
    title: str | None = None
    is_forum: bool = False

    def __post_init__(self) -> None:
        if self.is_forum and self.type != "supergroup":
            raise ValueError("only a supergroup can be a forum")

    @classmethod
    def private(cls, user: User) -> Chat:
        """The private chat of this user with the bot."""
        return cls(id=user.id, type="private")

    @classmethod
    def forum(cls, chat_id: int, title: str) -> Chat:
        """A supergroup with topics."""
        return cls(id=chat_id, type="supergroup", title=title, is_forum=True)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button (other kinds keep only their text)."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API InlineKeyboardButton object."""
        out: dict[str, Any] = {"text": self.text}
        if self.callback_data is not None:
            out["callback_data"] = self.callback_data
        if self.url is not None:
            out["url"] = self.url
        return out


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A message as stored; edits and deletion replace the record in the store."""

    message_id: int
    chat_id: int
    from_id: int
    date: int
    text: str | None = None
    caption: str | None = None
    entities: tuple[Entity, ...] = ()
    """Of the text, or of the caption."""
    photo_sizes: tuple[str, ...] = ()
    """File ids, smallest first."""
    document: str | None = None
    document_name: str | None = None
    document_mime: str | None = None
    reply_markup: Keyboard = ()
    reply_to_message_id: int | None = None
    parse_mode: str | None = None
    media_group_id: str | None = None
    thread_id: int | None = None
    """The forum topic the message is in; None in General and outside forums."""
    topic_created: str | None = None
    """The name of the topic this service message opened."""
    deleted: bool = False
    edits: int = 0
    via_bot: bool = False
    """Sent by a user through the bot's inline mode."""
    inline_message_id: str | None = None
    """The id the bot edits it by: only an inline message that came with a keyboard has one."""

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent it."""
        return self.from_id == BOT_ID

    @property
    def bot_editable(self) -> bool:
        """Whether the bot may edit it and its buttons reach the bot: its own, or inline."""
        return self.from_bot or self.inline_message_id is not None

    @property
    def photo(self) -> str | None:
        """The file id of the largest photo size."""
        return self.photo_sizes[-1] if self.photo_sizes else None

    @property
    def buttons(self) -> list[Button]:
        """The inline keyboard's buttons, row by row."""
        return [button for row in self.reply_markup for button in row]


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot said with answerCallbackQuery."""

    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True, slots=True)
class Topic:
    """A forum topic; its id is the id of the service message that opened it."""

    chat_id: int
    thread_id: int
    name: str
